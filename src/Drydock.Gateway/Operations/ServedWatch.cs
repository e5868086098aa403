namespace Drydock.Gateway.Operations;

/// <summary>
/// Watches, while a request is with the model server, that its model name still resolves to what it was sent to; the
/// moment it does not (the kill switch, a revert, the version contained under another name), or the registry's state no
/// longer matches its audit log (<see cref="GatewayOperations.ServingProblem"/>), <see cref="Token"/> is
/// cancelled, which stops the upstream exchange: a stream already running is cut within <see cref="Period"/> of the
/// gateway learning of the change.
/// </summary>
internal sealed class ServedWatch : IDisposable
{
    /// <summary>How often the name is checked again.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource _cut;
    private readonly ITimer _timer;
    private volatile bool _wasCut;

    public ServedWatch(GatewayOperations operations, string model, Route route, TimeProvider time, CancellationToken requestAborted)
    {
        _cut = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        _timer = time.CreateTimer(_ =>
        {
            if (operations.ServingProblem is null && operations.Resolve(model) == route) return;
            _wasCut = true;
            try
            {
                _cut.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }, null, Period, Period);
    }

    /// <summary>Cancelled when the client goes away or what the name serves is contained.</summary>
    public CancellationToken Token => _cut.Token;

    /// <summary>True once containment cut the exchange.</summary>
    public bool Cut => _wasCut;

    public void Dispose()
    {
        _timer.Dispose();
        _cut.Dispose();
    }
}
