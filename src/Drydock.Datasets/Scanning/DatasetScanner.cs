using Drydock.Detection;
using Drydock.Detection.Engine;

namespace Drydock.Datasets.Scanning;

/// <summary>A finding located in a record field. Offsets are Unicode code points into the field text.</summary>
public sealed record LocatedFinding(string Field, Finding Finding, int Start, int End);

/// <summary>One record after scanning: the record (if it could be read), any problem, and its findings.</summary>
public sealed record ScannedRecord(string File, long Line, string? RecordId, MalformedRecord? Problem, IReadOnlyList<LocatedFinding> Findings, int FieldCount, bool Read);

/// <summary>The scanned records of one batch, in input order.</summary>
public sealed record ScannedBatch(IReadOnlyList<ScannedRecord> Records, long Bytes);

/// <summary>
/// Runs a detector over dataset batches on all cores. Batches are parsed and scanned in parallel and handed
/// back in input order; at most a few batches are in flight, so memory stays bounded whatever the input size.
/// </summary>
public sealed class DatasetScanner
{
    private readonly Detector _detector;
    private readonly int _parallelism;
    private readonly TaskScheduler _scheduler;

    /// <summary>Creates a scanner running at most <paramref name="parallelism"/> batches at once (default: one per core).</summary>
    public DatasetScanner(Detector detector, int? parallelism = null)
    {
        _detector = detector;
        _parallelism = Math.Max(1, parallelism ?? Environment.ProcessorCount);
        _scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, _parallelism).ConcurrentScheduler;
    }

    /// <summary>Scans batches, yielding results in input order.</summary>
    public IEnumerable<ScannedBatch> Scan(IEnumerable<RecordBatch> batches, CancellationToken cancellationToken = default)
    {
        var inFlight = new Queue<Task<ScannedBatch>>();
        try
        {
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                inFlight.Enqueue(Task.Factory.StartNew(() => ScanBatch(batch), cancellationToken, TaskCreationOptions.DenyChildAttach, _scheduler));
                if (inFlight.Count > _parallelism * 2)
                {
                    yield return Wait(inFlight.Dequeue());
                }
            }

            while (inFlight.Count > 0)
            {
                yield return Wait(inFlight.Dequeue());
            }
        }
        finally
        {
            // Reading failed or the caller stopped early: let running work finish before buffers go back to the pool.
            foreach (var task in inFlight)
            {
                try
                {
                    task.Wait(CancellationToken.None);
                }
                catch (AggregateException)
                {
                    // Already reported through the failure that stopped the enumeration.
                }
            }
        }
    }

    /// <summary>Scans one record's fields (used by batch scanning and by callers with records in hand).</summary>
    public ScannedRecord ScanRecord(DatasetRecord record, MalformedRecord? problem = null)
    {
        List<LocatedFinding>? found = null;
        foreach (var field in record.Fields)
        {
            IReadOnlyList<Finding> findings;
            try
            {
                findings = _detector.Scan(field.Text);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A detector bug must not stop the scan, nor hide the field: it becomes a reported problem.
                problem ??= new MalformedRecord(record.File, record.Line, $"field '{field.Path}' could not be scanned: {e.GetType().Name}");
                continue;
            }

            if (findings.Count == 0) continue;
            found ??= [];
            var surrogates = field.Text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;
            foreach (var f in findings)
            {
                found.Add(surrogates
                    ? new LocatedFinding(field.Path, f, CodePoints(field.Text, f.Start), CodePoints(field.Text, f.End))
                    : new LocatedFinding(field.Path, f, f.Start, f.End));
            }
        }

        return new ScannedRecord(record.File, record.Line, record.Id, problem, (IReadOnlyList<LocatedFinding>?)found ?? [], record.Fields.Count, Read: true);
    }

    private ScannedBatch ScanBatch(RecordBatch batch)
    {
        var scanned = new List<ScannedRecord>();
        foreach (var result in batch.Parse())
        {
            if (result.Record is { } record)
            {
                scanned.Add(ScanRecord(record, result.Problem));
            }
            else if (result.Problem is { } problem)
            {
                scanned.Add(new ScannedRecord(problem.File, problem.Line, null, problem, [], 0, Read: false));
            }
        }

        return new ScannedBatch(scanned, batch.Bytes);
    }

    // Blocks on the kernel handle rather than spinning: on a small machine a spinning consumer steals the
    // core that the workers need.
    private static ScannedBatch Wait(Task<ScannedBatch> task)
    {
        if (!task.IsCompleted)
        {
            ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        }

        return task.GetAwaiter().GetResult();
    }

    private static int CodePoints(string text, int utf16Offset)
    {
        var count = 0;
        for (var i = 0; i < utf16Offset && i < text.Length; i++)
        {
            if (!char.IsLowSurrogate(text[i])) count++;
        }

        return count;
    }
}
