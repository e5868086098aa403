using Drydock.Gateway.Operations;

namespace Drydock.Gateway.Limits;

/// <summary>The model server sent nothing for the idle timeout while an answer's body or stream was open.</summary>
internal sealed class UpstreamIdleException(TimeSpan idle) : TimeoutException($"the model server sent nothing for {idle.TotalSeconds:0} s");

/// <summary>What the request's model name serves was contained while the answer was with the model server.</summary>
internal sealed class UpstreamCutException() : Exception("the model was contained while it answered");

/// <summary>The upstream answer's body, read through <see cref="IdleTimeoutStream"/>.</summary>
internal static class UpstreamBody
{
    /// <summary>
    /// Replaces <paramref name="response"/>'s content by its body read through an idle timeout and the containment
    /// <paramref name="watch"/> (none for what no model serves, such as the model list); returns the response.
    /// </summary>
    public static async Task<HttpResponseMessage> WatchAsync(HttpResponseMessage response, TimeSpan idle, ServedWatch? watch, CancellationToken requestAborted)
    {
        var original = response.Content;
        var body = await original.ReadAsStreamAsync(requestAborted).ConfigureAwait(false);
        var content = new StreamContent(new IdleTimeoutStream(body, idle, TimeProvider.System, watch));
        foreach (var (name, values) in original.Headers) content.Headers.TryAddWithoutValidation(name, values);
        response.Content = content;
        return response;
    }
}

/// <summary>
/// An upstream body that must keep coming: each read that brings nothing within <c>idle</c> fails with
/// <see cref="UpstreamIdleException"/>, and a read when the containment watch cuts the exchange fails with
/// <see cref="UpstreamCutException"/> (either way the read is cancelled, which closes the connection). The upstream
/// timeout of the HTTP client ends with the headers; this covers the body and every gap of a stream.
/// </summary>
internal sealed class IdleTimeoutStream(Stream inner, TimeSpan idle, TimeProvider time, ServedWatch? watch) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (watch?.Cut == true) throw new UpstreamCutException();
        using var timeout = new CancellationTokenSource(idle, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, watch?.Token ?? CancellationToken.None);
        try
        {
            return await inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && watch?.Cut == true)
        {
            throw new UpstreamCutException();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw new UpstreamIdleException(idle);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
