using System.CommandLine;
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
        var strace = new Option<bool>("--strace")
        {
            Description = "Print every system call with its arguments and result to stderr",
        };
        var program = new Argument<string[]>("program")
        {
            Description = "The Linux program (a path inside the root) and its arguments",
            Arity = ArgumentArity.OneOrMore,
        };
        var run = new Command("run", "Run a Linux x86-64 program") { root, strace, program };
        run.SetAction(parse => Run(
            parse.GetValue(root)!,
            parse.GetValue(strace),
            parse.GetValue(program)!));

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

    private static int Run(string rootPath, bool strace, string[] argv)
    {
        Box box;
        try
        {
            box = Box.Create(new BoxOptions { RootPath = rootPath, Strace = strace });
        }
        catch (Exception e) when (e is DirectoryNotFoundException or PlatformNotSupportedException)
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
                Environment = HostEnvironment(),
                WorkingDirectory = GuestWorkingDirectory(rootPath),
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

        return process.WaitForExitAsync().GetAwaiter().GetResult();
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

    /// <summary>With the host's / as the root, the guest starts where umos was started; otherwise at "/".</summary>
    private static string GuestWorkingDirectory(string rootPath) =>
        Path.GetFullPath(rootPath) == "/" ? Environment.CurrentDirectory : "/";
}
