using System.Diagnostics;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// A one-line progress display on stderr (records/s and MB/s), redrawn a few times a second. Draws nothing
/// unless stderr is a terminal, so logs and pipes stay clean.
/// </summary>
internal sealed class ProgressBar : IDisposable
{
    private readonly TextWriter _stderr;
    private readonly bool _enabled;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Timer? _timer;
    private readonly Lock _lock = new();
    private string _file = "";
    private long _fileLength;
    private long _filePosition;
    private long _records;
    private long _bytes;
    private int _lastWidth;

    public ProgressBar(TextWriter stderr, bool enabled)
    {
        _stderr = stderr;
        _enabled = enabled;
        if (enabled)
        {
            _timer = new Timer(_ => Draw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        }
    }

    public void StartFile(string file, long length)
    {
        lock (_lock)
        {
            _file = file;
            _fileLength = length;
            _filePosition = 0;
        }
    }

    public void Advance(long records, long bytes)
    {
        Interlocked.Add(ref _records, records);
        Interlocked.Add(ref _bytes, bytes);
    }

    public void FilePosition(long position) => Interlocked.Exchange(ref _filePosition, position);

    private void Draw()
    {
        lock (_lock)
        {
            var seconds = Math.Max(0.001, _clock.Elapsed.TotalSeconds);
            var records = Interlocked.Read(ref _records);
            var bytes = Interlocked.Read(ref _bytes);
            var percent = _fileLength > 0 ? Math.Min(100, 100.0 * Interlocked.Read(ref _filePosition) / _fileLength) : 0;
            const int width = 20;
            var filled = (int)(percent / 100 * width);
            var name = _file.Length > 30 ? "…" + _file[^29..] : _file;
            var line = $"[{new string('#', filled)}{new string('.', width - filled)}] {percent,3:0}% {name}  {records:N0} records  " +
                       $"{bytes / 1e6:0.0} MB  {records / seconds:N0} rec/s  {bytes / 1e6 / seconds:0.0} MB/s";
            _stderr.Write("\r" + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
        }
    }

    public void Dispose()
    {
        if (!_enabled) return;
        _timer!.Dispose();
        lock (_lock)
        {
            _stderr.Write("\r" + new string(' ', _lastWidth) + "\r");
        }
    }
}
