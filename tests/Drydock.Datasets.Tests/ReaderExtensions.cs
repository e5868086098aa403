using Drydock.Tests.Shared;

namespace Drydock.Datasets.Tests;

internal static class ReaderExtensions
{
    public static List<ReadResult> ReadAll(this DatasetReader reader, string path)
    {
        var format = reader.Detect(path);
        return reader.Read(path, format).SelectMany(b => b.Parse()).ToList();
    }
}
