using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Provenance.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Operations;

/// <summary>
/// The admin API, for keys of the <c>admin</c> tier and identity-provider tokens by their roles (<see cref="AdminRoles"/>;
/// any other key gets 403, none 401; a token lacking the role gets 403 naming it): read deployments, incidents and the
/// request log; contain a model alias (disable it, or revert it to the previous approved version); enable it again;
/// revoke an API key on every instance. Each action is recorded on an incident in the registry's audit log, every read
/// of the request log and every refusal by role as an access decision.
/// </summary>
internal static class AdminApi
{
    public static void Map(WebApplication app, GatewayHost host)
    {
        // At start: the whole audit log is walked once, so a log that does not verify is in the gateway's log at once.
        // Model requests are refused too (Operations.ChainProblem), until a whole walk holds.
        if (ChainProblem(host) is { } broken) AdminChainLog.BrokenAtStart(host.Log, broken);
        app.MapGet("/admin/deployments", (RequestDelegate)(context => Run(context, host, _ =>
        {
            var list = new JsonArray();
            foreach (var d in host.Operations.Deployments())
            {
                list.Add((JsonNode)new JsonObject { ["alias"] = d.Alias, ["enabled"] = d.Enabled, ["model"] = d.ModelId, ["upstreamModel"] = d.UpstreamModel, ["changes"] = d.History.Count });
            }

            return new JsonObject { ["deployments"] = list };
        }, AdminRight.Status)));
        app.MapGet("/admin/incidents", (RequestDelegate)(context => Run(context, host, _ =>
        {
            var list = new JsonArray();
            foreach (var timeline in host.Operations.Incidents())
            {
                var events = new JsonArray();
                foreach (var e in timeline) events.Add((JsonNode)new JsonObject { ["action"] = e.Action, ["note"] = e.Note, ["actor"] = e.Actor, ["at"] = e.At });
                var first = timeline[0];
                list.Add((JsonNode)new JsonObject { ["id"] = first.IncidentId, ["kind"] = first.Kind, ["severity"] = first.Severity, ["subject"] = first.Subject, ["status"] = timeline[^1].Action == "closed" ? "closed" : "open", ["timeline"] = events });
            }

            return new JsonObject { ["incidents"] = list };
        }, AdminRight.Incidents)));
        app.MapGet("/admin/requests", (RequestDelegate)(context => RequestLog(context, host)));
        app.MapGet("/admin/dashboard", (RequestDelegate)(context => Dashboard.Serve(context, host)));
        app.MapPost("/admin/contain", (RequestDelegate)(context => Run(context, host, body =>
        {
            var revert = body["revert"] is JsonValue r && r.TryGetValue<bool>(out var revertAsked) && revertAsked;
            if (revert) AdminServeChecks.Check(host.Operations, Required(body, "model"), revert: true, Actor(context, host), context.Items[RoleItem] as string, Optional(body, "reason"), Optional(body, "incident"));
            var (incident, state) = host.Operations.Contain(Required(body, "model"), revert, Optional(body, "reason"), Optional(body, "incident"), Actor(context, host));
            Monitoring.GatewayLog.Contained(host.Log, state.Alias, state.Enabled ? "reverted to " + state.ModelId : "disabled", Actor(context, host), incident);
            return new JsonObject { ["incident"] = incident, ["alias"] = state.Alias, ["enabled"] = state.Enabled, ["model"] = state.ModelId, ["upstreamModel"] = state.UpstreamModel };
        }, AdminRight.Contain)));
        app.MapPost("/admin/enable", (RequestDelegate)(context => Run(context, host, body =>
        {
            AdminServeChecks.Check(host.Operations, Required(body, "model"), revert: false, Actor(context, host), context.Items[RoleItem] as string, Optional(body, "reason"), null);
            var state = host.Operations.Enable(Required(body, "model"), Optional(body, "reason"), Actor(context, host));
            return new JsonObject { ["alias"] = state.Alias, ["enabled"] = state.Enabled, ["model"] = state.ModelId };
        }, AdminRight.Enable)));
        app.MapPost("/admin/keys/revoke", (RequestDelegate)(context => RunAsync(context, host, async body =>
        {
            var id = Required(body, "id");
            if (!host.Keys.Revoke(id)) throw new RegistryException($"no key {id}");
            await host.State.RevokeAsync(id).ConfigureAwait(false);
            var incident = Optional(body, "incident") ?? host.Operations.OpenIncident("key-compromise", "high", $"key:{id}", Optional(body, "reason") ?? "revoked through the admin API");
            if (incident is not null && host.Operations.HasRegistry) host.Operations.Record(incident, "contained", $"key:{id} revoked", Actor(context, host));
            return new JsonObject { ["revoked"] = id, ["incident"] = incident };
        }, AdminRight.Keys)));
    }

    private static Task Run(HttpContext context, GatewayHost host, Func<JsonObject, JsonObject> action, AdminRight right) => RunAsync(context, host, body => Task.FromResult(action(body)), right);

    /// <summary>Answers 401 or 403 and returns false unless the caller may see the monitor's dashboard (an administrator key, or a token with a role the table gives it).</summary>
    internal static Task<bool> AdminOnly(HttpContext context, GatewayHost host) => AuthorizeAsync(context, host, AdminRight.Monitor);

    // GET /admin/requests?limit=N&key=ID&model=M: the newest request-log lines (metadata; text only as the policy kept it).
    // Every read is an audit entry with the actor; without a registry to record it in, the log is not served.
    private static async Task RequestLog(HttpContext context, GatewayHost host)
    {
        if (!await AuthorizeAsync(context, host, AdminRight.Requests).ConfigureAwait(false)) return;
        if (host.Options.AuditFolder is not { } folder) { await GatewayHost.Error(context, 404, "no_request_log", "this gateway keeps no request log").ConfigureAwait(false); return; }
        if (!host.Operations.HasRegistry) { await GatewayHost.Error(context, 503, "no_registry", "a read of the request log is recorded in the registry's audit log, and this gateway runs without a registry").ConfigureAwait(false); return; }
        var query = context.Request.Query;
        var limit = 100;
        if (query["limit"].Count > 0 && (!int.TryParse(query["limit"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            await GatewayHost.Error(context, 400, "invalid_request", "limit is a whole number from 1 to 1000").ConfigureAwait(false);
            return;
        }

        string? Text(string name) => query[name].Count > 0 && query[name].ToString() is { Length: > 0 } v ? v : null;
        await host.FlushAuditAsync().ConfigureAwait(false);
        var lines = Audit.RequestAuditLog.Query(folder, new Audit.RequestFilter(Text("key"), Text("model"), Limit: limit));
        try
        {
            host.Operations.RecordAccess(Actor(context, host), "admin requests", context.Items[RoleItem] as string, allowed: true, $"read {lines.Count} request-log line(s)");
        }
        catch (Exception e) when (e is RegistryException or System.Data.Common.DbException or IOException)
        {
            await GatewayHost.Error(context, 503, "not_recorded", "the read could not be recorded in the registry's audit log, so the request log is not served").ConfigureAwait(false);
            return;
        }

        await GatewayHost.Json(context, 200, new JsonObject { ["requests"] = new JsonArray([.. lines]) }).ConfigureAwait(false);
    }

    // Establishes who acts (an administrator key, or a token whose roles allow the right) or answers 401 / 403.
    private static async Task<bool> AuthorizeAsync(HttpContext context, GatewayHost host, AdminRight right)
    {
        var caller = await host.IdentifyAsync(context).ConfigureAwait(false);
        if (caller.Refusal is not null) { await GatewayHost.Error(context, 401, "invalid_token", "missing, malformed, expired or untrusted bearer token").ConfigureAwait(false); return false; }
        if (caller.Token is { } token)
        {
            // A token acts by its roles, as the role table says.
            var actor = "oidc:" + token.SubjectId;
            if (AdminRoles.RoleFor(right, token.Roles) is not { } role)
            {
                var held = token.Roles.Count == 0 ? "no role" : "the roles " + string.Join(", ", token.Roles.Order(StringComparer.Ordinal));
                var message = $"{AdminRoles.Route(right)} needs {AdminRoles.Needed(right)}; the token holds {held}";
                Identity.IdentityLog.NotAllowed(host.Log, token.SubjectId, context.Request.Path, $"roles [{string.Join(",", token.Roles.Order(StringComparer.Ordinal))}] may not {right.ToString().ToLowerInvariant()}");
                // Bounded as refused keys are: one entry per subject a minute, the rest counted (RefusedKeyLog).
                host.RefusedKeys.Refused(actor, "admin " + right.ToString().ToLowerInvariant(), message);
                await GatewayHost.Error(context, 403, "role_not_allowed", message).ConfigureAwait(false);
                return false;
            }

            if (!await ChainHolds(context, host, actor, right).ConfigureAwait(false)) return false;
            context.Items[ActorItem] = actor;
            context.Items[RoleItem] = role;
        }
        else
        {
            var key = caller.Key;
            if (key is null)
            {
                if (GatewayHost.Bearer(context) is { Length: > 0 } presented) RecordRefusedKey(host, right, PresentedKeyActor(presented), "a key that is unknown, wrong, revoked or expired (401 invalid_api_key)");
                await GatewayHost.Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false);
                return false;
            }

            if (key.Tier != GatewayOptions.AdminTier)
            {
                RecordRefusedKey(host, right, "key:" + key.Id, $"{AdminRoles.Route(right)} needs an administrator key; key {key.Id} is of the tier {key.Tier} (403 not_admin)");
                await GatewayHost.Error(context, 403, "not_admin", "the admin API needs an administrator key (drydock keys create --admin)").ConfigureAwait(false);
                return false;
            }
            // The key acts as itself, by its id: its name is a label anyone who may create keys chooses, never a person.
            var actor = KeyActor(key);
            if (!await ChainHolds(context, host, actor, right).ConfigureAwait(false)) return false;
            context.Items[ActorItem] = actor;
            context.Items[RoleItem] = GatewayOptions.AdminTier;
        }

        return true;
    }

    // Why the registry's audit log or actor records cannot be relied on, or null (no registry: nothing to rely on).
    private static string? ChainProblem(GatewayHost host)
    {
        try
        {
            return host.Operations.ChainProblem();
        }
        catch (Exception e) when (e is RegistryException or System.Data.Common.DbException or IOException or UnauthorizedAccessException or Provenance.KeyRingException)
        {
            return $"the audit log cannot be read ({e.Message})";
        }
    }

    // Before any decision on a role or a grant, the audit chain must hold as the CLI's role checks require: otherwise
    // 503 audit_log_broken, in the gateway's log and (when it can be written) the audit log.
    private static async Task<bool> ChainHolds(HttpContext context, GatewayHost host, string actor, AdminRight right)
    {
        if (ChainProblem(host) is not { } problem) return true;
        var message = $"{AdminRoles.Route(right)} is refused while the registry's audit log does not verify: {problem}; run 'drydock audit verify'";
        await Refuse(context, host, actor, right, 503, "audit_log_broken", message).ConfigureAwait(false);
        return false;
    }

    /// <summary>The actor an administrator key acts as: <c>adminkey:ID</c>, the key itself (never the person its name names).</summary>
    internal static string KeyActor(Keys.ApiKey key) => "adminkey:" + key.Id;

    private static async Task Refuse(HttpContext context, GatewayHost host, string actor, AdminRight right, int status, string code, string message)
    {
        AdminChainLog.Refused(host.Log, context.Request.Path, actor, message);
        host.RefusedKeys.Refused(actor, "admin " + right.ToString().ToLowerInvariant(), message);
        await GatewayHost.Error(context, status, code, message).ConfigureAwait(false);
    }

    // A refused API key is an audit entry as a token's refusal is: never the key, only its id (a known key) or the
    // first 8 hex digits of the SHA-256 of what was presented; at most one entry per key a minute, with a count
    // (RefusedKeyLog). A refusal that cannot be recorded still stands.
    private static void RecordRefusedKey(GatewayHost host, AdminRight right, string actor, string reason)
    {
        host.RefusedKeys.Refused(actor, "admin " + right.ToString().ToLowerInvariant(), reason);
    }

    internal static string PresentedKeyActor(string presented) =>
        "apikey:sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presented)))[..8];

    private static async Task RunAsync(HttpContext context, GatewayHost host, Func<JsonObject, Task<JsonObject>> action, AdminRight right)
    {
        if (!await AuthorizeAsync(context, host, right).ConfigureAwait(false)) return;
        JsonObject body = [];
        if (HttpMethods.IsPost(context.Request.Method))
        {
            // Strict UTF-8, as the gateway reads a request: 400 invalid_encoding, never a body with its bad bytes replaced.
            var (read, code, message) = await Payload.RequestBody.ReadObjectAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            if (read is null)
            {
                await GatewayHost.Error(context, 400, code, message).ConfigureAwait(false);
                return;
            }

            body = read;
        }

        try
        {
            await GatewayHost.Json(context, 200, await action(body).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (AdminRefusedException e)
        {
            await GatewayHost.Error(context, e.Status, e.Code, e.Message).ConfigureAwait(false);
        }
        catch (GateException e)
        {
            await GatewayHost.Error(context, 409, "gate_refused", e.Message).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            await GatewayHost.Error(context, 400, "invalid_request", e.Message).ConfigureAwait(false);
        }
    }

    private const string ActorItem = "drydock.actor";

    private const string RoleItem = "drydock.role";

    // Who acts, as established by RunAsync before any action: "adminkey:ID" for a key, "oidc:sub_HASH" for a token.
    private static string Actor(HttpContext context, GatewayHost host) => context.Items[ActorItem] as string ?? throw new InvalidOperationException("no actor established");

    private static string Required(JsonObject body, string field) => Optional(body, field) ?? throw new RegistryException($"field '{field}' is required");

    private static string? Optional(JsonObject body, string field) => body[field] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
}
