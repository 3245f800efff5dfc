global using Task = UserModeOS.Kernel.Task;
