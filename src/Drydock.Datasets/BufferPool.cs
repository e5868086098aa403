using System.Collections.Concurrent;

namespace Drydock.Datasets;

/// <summary>
/// A small pool of batch buffers owned by one reader. The shared array pool trims large arrays on every
/// full garbage collection, and re-allocating them on the large-object heap causes more full collections;
/// a private pool keeps the few buffers in flight alive for the whole read.
/// </summary>
internal sealed class BufferPool(int size)
{
    private readonly ConcurrentQueue<byte[]> _free = new();

    public int Size { get; } = size;

    public byte[] Rent(int minimum)
    {
        if (minimum <= Size && _free.TryDequeue(out var buffer))
        {
            return buffer;
        }

        return GC.AllocateUninitializedArray<byte>(Math.Max(Size, minimum));
    }

    public void Return(byte[] buffer)
    {
        // Oversized buffers (a long record grew them) are left to the collector; a handful are kept.
        if (buffer.Length == Size && _free.Count < 64)
        {
            _free.Enqueue(buffer);
        }
    }
}
