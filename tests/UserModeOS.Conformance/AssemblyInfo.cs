// The suite runs Linux programs natively as its oracle: Linux hosts only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
