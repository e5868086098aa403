namespace Drydock.Bench;

internal static class Quality
{
    public static int Run(string sharedBench) => 0;
}
