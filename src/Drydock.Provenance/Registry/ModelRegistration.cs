using System.Text;
using System.Text.Json;
using Drydock.Datasets.Output;
using Drydock.Provenance.Signing;

namespace Drydock.Provenance.Registry;

/// <summary>What registering a model version did: the record, whether it was new, where its signature is, and the key that signed it (null when it existed).</summary>
public sealed record ModelRegistered(ModelRecord Model, bool Created, string EnvelopePath, string? KeyId);

/// <summary>What a model version is registered as: its files, name, base model and the datasets it was trained on.</summary>
/// <param name="Target">The model file or folder.</param>
/// <param name="Name">The model's name.</param>
/// <param name="BaseModel">The base model (name and pinned hash), when known.</param>
/// <param name="DatasetIds">The registered datasets it was trained on.</param>
/// <param name="SigningKeyPath">The signing key.</param>
/// <param name="Actor">Who registers it.</param>
public sealed record ModelRegistrationSettings(string Target, string Name, string? BaseModel, IReadOnlyList<string> DatasetIds, string SigningKeyPath, string Actor)
{
    /// <summary>Fields added to the signed predicate (a training run's record, its privacy budget).</summary>
    public Action<Utf8JsonWriter>? Details { get; init; }
}

/// <summary>
/// Registering a model file or folder: an in-toto statement over its files, signed and written beside it as
/// TARGET.dsse.json, and the model version recorded. The same files registered again return the existing record,
/// with no key used.
/// </summary>
public static class ModelRegistration
{
    /// <summary>Registers the model <paramref name="settings"/> describe.</summary>
    public static ModelRegistered Register(ProvenanceRegistry registry, ModelRegistrationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(settings);
        var target = settings.Target;
        var (files, digest) = ModelDigest.Of(target);
        var id = RegistryIds.Model(digest);
        var envelopePath = target.TrimEnd(Path.DirectorySeparatorChar) + ".dsse.json";
        if (registry.FindModel(id) is { } existing) return new ModelRegistered(existing, false, envelopePath, null);
        using var key = SigningKey.Load(settings.SigningKeyPath);
        var envelopeDirectory = Path.GetDirectoryName(target.TrimEnd(Path.DirectorySeparatorChar))!;
        var subjects = files.Select(f => new Subject(Path.GetRelativePath(envelopeDirectory, Path.Combine(Directory.Exists(target) ? target : envelopeDirectory, f.Path)).Replace('\\', '/'), f.Sha256));
        var statement = Dsse.Statement(subjects, Dsse.ModelPredicate, w =>
        {
            w.WriteStartObject();
            w.WriteString("modelId", id);
            w.WriteString("name", settings.Name);
            w.WriteString("digest", "sha256:" + digest);
            w.WriteString("baseModel", settings.BaseModel);
            w.WriteStartArray("datasets");
            foreach (var d in settings.DatasetIds) w.WriteStringValue(d);
            w.WriteEndArray();
            w.WriteString("registeredBy", settings.Actor);
            settings.Details?.Invoke(w);
            w.WriteEndObject();
        });
        var envelope = Dsse.Sign(statement, key);
        using (var file = new AtomicFile(envelopePath))
        {
            file.Stream.Write(envelope);
            file.Commit();
        }

        var (model, _) = registry.RegisterModel(settings.Name, digest, settings.BaseModel, files, settings.DatasetIds, Encoding.UTF8.GetString(envelope), settings.Actor);
        return new ModelRegistered(model, true, envelopePath, key.KeyId);
    }
}
