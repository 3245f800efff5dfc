using System.CommandLine;
using System.Runtime.InteropServices;
using UserModeOS.Hosting;

namespace UserModeOS.Cli;

/// <summary>The umos command line: a thin shell over the embedding API.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new Option<string>("--root")
        {
            Description = "Host folder to use as the guest's root directory",
            DefaultValueFactory = _ => "/",
        };
        var overlay = new Option<string?>("--overlay")
        {
            Description = "Make the root copy-on-write: the --root folder is never written, changes land in host folder UPPER",
        };
        var strace = new Option<bool>("--strace")
        {
            Description = "Print every system call with its arguments and result to stderr",
        };
        var volume = new Option<string[]>("--volume")
        {
            Description = "Mount host folder HOST at guest path GUEST (HOST:GUEST[:ro]); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var tmpfs = new Option<string[]>("--tmpfs")
        {
            Description = "Mount an empty in-memory filesystem at guest path GUEST (GUEST[:size=N[k|m|g]]); repeatable",
        };
        var workdir = new Option<string?>("--workdir")
        {
            Description = "The guest's working directory (a guest path)",
        };
        var env = new Option<string[]>("--env")
        {
            Description = "Set guest environment variable K=V (added to or overriding the host's environment); repeatable",
        };
        var user = new Option<string?>("--user")
        {
            Description = "Run the program as guest user UID and group GID (UID[:GID], numbers; GID defaults to UID) instead of root",
        };
        var noAslr = new Option<bool>("--no-aslr")
        {
            Description = "Load programs at fixed addresses (no address-space layout randomisation)",
        };
        var program = new Argument<string[]>("program")
        {
            Description = "The Linux program (a path inside the root) and its arguments",
            Arity = ArgumentArity.OneOrMore,
        };
        var run = new Command("run", "Run a Linux x86-64 program") { root, overlay, strace, noAslr, volume, tmpfs, workdir, env, user, program };
        run.SetAction(parse => Run(
            parse.GetValue(root)!,
            parse.GetValue(strace),
            parse.GetValue(program)!,
            new MountOptions(parse.GetValue(volume) ?? [], parse.GetValue(tmpfs) ?? [], parse.GetValue(workdir), parse.GetValue(env) ?? [], parse.GetValue(overlay), parse.GetValue(user)),
            !parse.GetValue(noAslr)));

        var command = new RootCommand("UserModeOS: run unmodified Linux x86-64 programs in a user-mode OS") { run };
        return command.Parse(SeparateGuestArguments(args, run)).Invoke();
    }

    /// <summary>
    /// Everything from the program path on belongs to the guest, options included
    /// (`umos run /bin/ls -l`): insert the `--` that tells the parser so, unless given.
    /// </summary>
    private static string[] SeparateGuestArguments(string[] args, Command run)
    {
        if (args.Length == 0 || args[0] != run.Name || Array.IndexOf(args, "--") >= 0)
        {
            return args;
        }

        var valued = run.Options.Where(o => o.Arity.MaximumNumberOfValues > 0 && o.ValueType != typeof(bool))
            .SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
        for (var i = 1; i < args.Length; i++)
        {
            if (valued.Contains(args[i]))
            {
                i++;
                continue;
            }

            if (!args[i].StartsWith('-'))
            {
                return [.. args[..i], "--", .. args[i..]];
            }
        }

        return args;
    }

    /// <summary>--volume, --tmpfs, --workdir, --env, --overlay and --user as given.</summary>
    private sealed record MountOptions(string[] Volumes, string[] Tmpfs, string? Workdir, string[] Env, string? Overlay = null, string? User = null);

    private static int Run(string rootPath, bool strace, string[] argv, MountOptions? more = null, bool aslr = true)
    {
        more ??= new MountOptions([], [], null, []);
        var volumes = new List<BoxVolume>();
        foreach (var spec in more.Volumes)
        {
            if (BoxVolume.Parse(spec) is not { } parsed)
            {
                Console.Error.WriteLine($"umos: --volume {spec}: expected HOST:GUEST[:ro] with an absolute GUEST path");
                return 125;
            }

            volumes.Add(parsed);
        }

        foreach (var spec in more.Tmpfs)
        {
            if (Box.ParseTmpfs(spec) is null)
            {
                Console.Error.WriteLine($"umos: --tmpfs {spec}: expected an absolute GUEST path, optionally with :size=N[k|m|g]");
                return 125;
            }
        }

        if (more.Workdir is { } dir && !dir.StartsWith('/'))
        {
            Console.Error.WriteLine($"umos: --workdir {dir}: guest paths must be absolute");
            return 125;
        }

        GuestUser? guestUser = null;
        if (more.User is { } userSpec && (guestUser = GuestUser.Parse(userSpec)) is null)
        {
            Console.Error.WriteLine($"umos: --user {userSpec}: expected UID[:GID], numbers");
            return 125;
        }

        foreach (var pair in more.Env)
        {
            if (pair.IndexOf('=') <= 0)
            {
                Console.Error.WriteLine($"umos: --env {pair}: expected K=V");
                return 125;
            }
        }

        Box box;
        try
        {
            box = Box.Create(new BoxOptions { RootPath = rootPath, Strace = strace, Aslr = aslr, Volumes = volumes, TmpfsMounts = more.Tmpfs, OverlayUpper = more.Overlay });
        }
        catch (Exception e) when (e is DirectoryNotFoundException or PlatformNotSupportedException or ArgumentException)
        {
            Console.Error.WriteLine($"umos: {e.Message}");
            return 125;
        }

        GuestProcess process;
        try
        {
            process = box.Start(new GuestStartInfo
            {
                Program = argv[0],
                Arguments = argv,
                Environment = WithOverrides(HostEnvironment(), more.Env),
                WorkingDirectory = more.Workdir ?? GuestWorkingDirectory(rootPath),
                User = guestUser,
                Stdin = GuestStdio.Inherit,
                Stdout = GuestStdio.Inherit,
                Stderr = GuestStdio.Inherit,
            });
        }
        catch (GuestStartException e)
        {
            Console.Error.WriteLine($"umos: {e.Message}");
            return e.Errno == Kernel.Errno.ENOENT ? 127 : 126;
        }

        // The host terminal's Ctrl-C (and SIGTERM, SIGHUP, SIGQUIT sent to umos) reach the
        // guest's foreground process group instead of ending umos; umos ends when its guest does.
        using var forwarders = ForwardSignals(box);
        return process.WaitForExitAsync().GetAwaiter().GetResult();
    }

    /// <summary>Forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to the box's foreground process group.</summary>
    private static CompositeDisposable ForwardSignals(Box box)
    {
        var registrations = new CompositeDisposable();
        foreach (var (host, guest) in new[] { (PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15), (PosixSignal.SIGHUP, 1), (PosixSignal.SIGQUIT, 3) })
        {
            registrations.Add(PosixSignalRegistration.Create(host, context =>
            {
                context.Cancel = true;
                box.SignalForeground(guest);
            }));
        }

        return registrations;
    }

    private sealed class CompositeDisposable : List<IDisposable>, IDisposable
    {
        public void Dispose()
        {
            foreach (var d in this)
            {
                d.Dispose();
            }
        }
    }

    private static List<string> HostEnvironment()
    {
        var list = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            list.Add($"{e.Key}={e.Value}");
        }

        list.Sort(StringComparer.Ordinal);
        return list;
    }

    /// <summary>The host environment with each --env K=V added or replacing K.</summary>
    private static List<string> WithOverrides(List<string> environment, string[] overrides)
    {
        foreach (var pair in overrides)
        {
            var key = pair[..(pair.IndexOf('=') + 1)];
            environment.RemoveAll(e => e.StartsWith(key, StringComparison.Ordinal));
            environment.Add(pair);
        }

        return environment;
    }

    /// <summary>With the host's / as the root, the guest starts where umos was started; otherwise at "/".</summary>
    private static string GuestWorkingDirectory(string rootPath) =>
        Path.GetFullPath(rootPath) == "/" ? Environment.CurrentDirectory : "/";
}
