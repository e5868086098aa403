using Drydock.Datasets.Scanning;

namespace Drydock.Cli.Reporting;

/// <summary>A scan report format. Records arrive in input order; the summary comes last.</summary>
internal interface IReportWriter : IDisposable
{
    void Add(ScannedRecord record);

    void Complete(ScanTotals totals, Stream output);
}
