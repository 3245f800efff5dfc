using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Processes;

/// <summary>
/// busybox sh as a process-tree workout, native vs umos: pipelines, subshells, $(...),
/// trap, background jobs with wait, kill, many short-lived children. External commands
/// are named by absolute path (/bin/busybox APPLET), as Debian's /bin tools are dynamic.
/// </summary>
[TestFixture]
public sealed class ShellTests
{
    private const string Busybox = "/bin/busybox";

    [OneTimeSetUp]
    public void RequireBusybox() => Assume.That(File.Exists(Busybox), "busybox-static is not installed");

    private static RunResult Sh(string script, bool compareStderr = true) =>
        Compare.AssertSameAsNative([Busybox, "sh", "-c", script.Replace("BB ", Busybox + " ", StringComparison.Ordinal)], compareStderr: compareStderr);

    /// <summary>(The native side inherits the test host's ignored SIGPIPE, so yes's complaint is silenced.)</summary>
    [Test]
    public void Pipelines() => Sh("""
        echo one two three | BB tr ' ' '\n' | BB sort -r | BB head -n 2
        printf 'a\nb\nc\n' | BB wc -l
        BB seq 1 50 | BB grep 7 | BB cat
        false | true; echo "status $?"
        true | false; echo "status $?"
        echo data | { read -r x; echo "read [$x]"; }
        printf 'l1\nl2\nl3\n' | while read -r line; do echo "got $line"; done | BB tail -n 2
        BB yes 2>/dev/null | BB head -n 3
        """);

    [Test]
    public void SubshellsAndCommandSubstitution() => Sh("""
        x=$(echo inner; echo second); echo "[$x]"
        y=$( (echo sub; exit 4) ); echo "$? $y"
        (cd /; pwd)
        (exit 7) || echo "subshell failed $?"
        z=`BB echo backtick`; echo $z
        echo $(echo $(echo nested))
        v=outer; (v=changed; echo "in $v"); echo "out $v"
        n=$(BB seq 1 300 | BB wc -l); echo "lines $n"
        big=$(BB seq 1 20000); echo "${#big}"
        """);

    [Test]
    public void Trap() => Sh("""
        trap 'echo caught USR1' USR1
        kill -USR1 $$
        echo after usr1
        trap 'echo caught TERM' TERM
        kill -TERM $$
        trap - USR1
        ( trap 'echo sub caught HUP; exit 3' HUP; kill -HUP $(BB sh -c 'echo $PPID'); BB usleep 500000 ); echo "sub status $?"
        trap 'echo exiting' EXIT
        exit 5
        """);

    [Test]
    public void BackgroundJobsAndWait() => Sh("""
        BB usleep 100000 & p=$!
        (exit 5) & q=$!
        wait $q; echo "q status $?"
        wait $p; echo "p status $?"
        for i in 1 2 3 4 5; do (exit $i) & done
        wait; echo "all waited $?"
        (echo from background) & wait
        echo "jobs done"
        """);

    /// <summary>
    /// (Not SIGINT: a non-interactive shell's background jobs ignore it, once they have run far
    /// enough. stderr not compared: whether ash prints "Terminated" for a job killed before it
    /// ran depends on timing.)
    /// </summary>
    [Test]
    public void Kill() => Sh("""
        BB sleep 10 & p=$!
        kill $p; wait $p; echo "TERM status $?"
        BB sleep 10 & p=$!
        kill -9 $p; wait $p; echo "KILL status $?"
        BB sleep 10 & p=$!
        kill -s HUP $p; wait $p; echo "HUP status $?"
        kill -0 $$ && echo "self exists"
        BB kill -0 $$ && echo "busybox kill sees the shell"
        BB sh -c 'kill -TERM $$; echo not reached'; echo "child killed itself: $?"
        """, compareStderr: false);

    [Test]
    public void AHundredShortLivedChildren() => Sh("""
        i=0; while [ $i -lt 100 ]; do BB true; i=$((i+1)); done; echo "sequential $i"
        i=0; while [ $i -lt 100 ]; do (exit 0) & i=$((i+1)); done; wait; echo "background $i"
        s=0; for n in $(BB seq 1 100); do s=$((s + $(BB echo $n))); done; echo "sum $s"
        """);

    [Test]
    public void RedirectionsAndHereDocuments() => Sh("""
        BB cat <<END
        here $((1+2))
        END
        exec 3>out.txt; echo to three >&3; exec 3>&-; BB cat out.txt
        { echo err >&2; echo out; } 2>&1 | BB sort
        BB sh -c 'echo inner stderr >&2' 2>/dev/null; echo "quiet"
        echo piped | BB sh -c 'read x; echo "inner read $x"'
        """);
}
