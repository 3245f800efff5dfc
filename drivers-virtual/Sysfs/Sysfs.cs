using UserModeOS.Drivers.Procfs;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Sysfs;

/// <summary>A minimal /sys: the CPU topology files programs size their thread pools by.</summary>
public sealed class Sysfs(DateTimeOffset created) : SyntheticFileSystem(created)
{
    public override string Type => "sysfs";

    protected override long Magic => StatFsInfo.SysfsMagic;

    protected override Errno Resolve(string[] parts, Task? caller, out Node node)
    {
        var cpus = Procfs.Procfs.CpuList(Environment.ProcessorCount);
        node = string.Join('/', parts) switch
        {
            "" => Node.Dir(() => ["devices"], 0x1ED),
            "devices" => Node.Dir(() => ["system"], 0x1ED),
            "devices/system" => Node.Dir(() => ["cpu"], 0x1ED),
            "devices/system/cpu" => Node.Dir(() => ["online", "possible", "present"], 0x1ED),
            "devices/system/cpu/online" or "devices/system/cpu/possible" or "devices/system/cpu/present" => Node.Text(() => cpus + "\n"),
            _ => null!,
        };
        return node is null ? Errno.ENOENT : Errno.None;
    }
}
