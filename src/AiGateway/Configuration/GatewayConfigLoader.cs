using System.Collections.Frozen;
using System.Net;
using System.Text.Json;
using AiGateway.Identity;
using AiGateway.Markings;
using AiGateway.RateLimiting;

namespace AiGateway.Configuration;

/// <summary>
/// Reads config/gateway.json and config/agencies/*.json and validates them into a <see cref="GatewaySnapshot"/>.
/// Every validator runs and every error is reported at once (file, JSON path, fix), like YARP's ConfigValidator.
/// </summary>
internal static class GatewayConfigLoader
{
    public const string GatewayFileName = "gateway.json";
    public const string AgenciesFolder = "agencies";
    public const string EmbeddedSimulatorUrl = "embedded://llm-simulator";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    private static long s_version;

    /// <summary>Loads and validates; throws <see cref="ConfigValidationException"/> listing every problem.</summary>
    public static GatewaySnapshot Load(string configDirectory, bool isProduction)
    {
        var errors = new List<ConfigError>();
        var gatewayPath = Path.Combine(configDirectory, GatewayFileName);
        var gateway = Read<GatewayFileConfig>(gatewayPath, errors);

        var agencies = new List<(string Path, AgencyFileConfig Config)>();
        var agenciesDir = Path.Combine(configDirectory, AgenciesFolder);
        if (Directory.Exists(agenciesDir))
        {
            var files = Directory.GetFiles(agenciesDir, "*.json");
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var file in files)
            {
                var agency = Read<AgencyFileConfig>(file, errors);
                if (agency is not null)
                {
                    agencies.Add((file, agency));
                }
            }
        }

        if (agencies.Count == 0 && errors.Count == 0)
        {
            errors.Add(new(agenciesDir, "$", "no agency file found. Fix: add at least one config/agencies/<agency>.json."));
        }

        if (gateway is null)
        {
            throw new ConfigValidationException(errors);
        }

        var snapshot = Validate(configDirectory, gatewayPath, gateway, agencies, isProduction, errors);
        if (errors.Count > 0)
        {
            throw new ConfigValidationException(errors);
        }

        return snapshot!;
    }

    private static T? Read<T>(string path, List<ConfigError> errors)
        where T : class
    {
        if (!File.Exists(path))
        {
            errors.Add(new(path, "$", "file not found. Fix: create it (see config/schema/ for its shape)."));
            return null;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var value = JsonSerializer.Deserialize<T>(stream, s_json);
            if (value is null)
            {
                errors.Add(new(path, "$", "the file holds JSON null. Fix: write a JSON object."));
            }

            return value;
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : string.Empty;
            errors.Add(new(path, ex.Path ?? "$", $"{FirstSentence(ex.Message)}{where}. Fix: correct the JSON or remove the unknown property."));
            return null;
        }
        catch (IOException ex)
        {
            errors.Add(new(path, "$", $"cannot be read: {ex.Message}"));
            return null;
        }
        catch (UnauthorizedAccessException ex)
        {
            errors.Add(new(path, "$", $"cannot be read: {ex.Message}"));
            return null;
        }
    }

    private static string FirstSentence(string message)
    {
        // STJ messages repeat the path and position; keep the first sentence only.
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.');
    }

    private static GatewaySnapshot? Validate(
        string configDirectory,
        string gatewayPath,
        GatewayFileConfig gateway,
        List<(string Path, AgencyFileConfig Config)> agencyFiles,
        bool isProduction,
        List<ConfigError> errors)
    {
        void Error(string path, string message) => errors.Add(new(gatewayPath, path, message));

        if (gateway.RequestLimits.MaxBodyBytes is < 1024 or > 256L * 1024 * 1024)
        {
            Error("$.requestLimits.maxBodyBytes", "must be between 1024 and 268435456. Fix: use e.g. 8388608 (8 MiB).");
        }

        if (gateway.Forwarding.MaxAttempts is < 1 or > 10)
        {
            Error("$.forwarding.maxAttempts", "must be between 1 and 10.");
        }

        if (gateway.Forwarding.UpstreamTimeoutSeconds is <= 0 or > 3600)
        {
            Error("$.forwarding.upstreamTimeoutSeconds", "must be greater than 0 and at most 3600.");
        }

        if (gateway.Forwarding.UnhealthyPeriodSeconds is < 0 or > 3600)
        {
            Error("$.forwarding.unhealthyPeriodSeconds", "must be between 0 and 3600.");
        }

        if (gateway.Forwarding.MaxRetryAfterSeconds is < 0 or > 86400)
        {
            Error("$.forwarding.maxRetryAfterSeconds", "must be between 0 and 86400.");
        }

        if (gateway.Forwarding.ConnectionLifetimeSeconds is < 1 or > 86400)
        {
            Error("$.forwarding.connectionLifetimeSeconds", "must be between 1 and 86400.");
        }

        ValidateLimitStore(gateway.LimitStore, configDirectory, gatewayPath, errors);

        // Providers.
        var providers = new Dictionary<string, UpstreamProvider>(StringComparer.Ordinal);
        foreach (var (name, provider) in gateway.Providers)
        {
            var path = $"$.providers['{name}']";
            ProviderApi? api = provider.Api switch
            {
                "openai" => ProviderApi.OpenAI,
                "azure-openai" => ProviderApi.AzureOpenAI,
                "anthropic" => ProviderApi.Anthropic,
                _ => null,
            };
            if (api is null)
            {
                Error($"{path}.api", $"'{provider.Api}' is not a provider API. Fix: use 'openai', 'azure-openai' or 'anthropic'.");
            }

            var embedded = string.Equals(provider.BaseUrl, EmbeddedSimulatorUrl, StringComparison.OrdinalIgnoreCase);
            Uri? baseUrl = null;
            if (embedded)
            {
                baseUrl = new Uri("http://127.0.0.1/");
            }
            else if (!Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out baseUrl)
                || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp)
                || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.Fragment))
            {
                Error($"{path}.baseUrl", $"'{provider.BaseUrl}' is not an absolute http(s) URL without query. Fix: e.g. 'https://api.openai.com' or '{EmbeddedSimulatorUrl}'.");
                baseUrl = null;
            }
            else if (baseUrl.Scheme == Uri.UriSchemeHttp && !IsLoopback(baseUrl) && !provider.AllowInsecureHttp)
            {
                Error($"{path}.baseUrl", "plain http to a non-loopback host would send prompts and keys unencrypted. Fix: use https, or set allowInsecureHttp for an in-cluster endpoint.");
            }

            if (api == ProviderApi.AzureOpenAI && string.IsNullOrWhiteSpace(provider.ApiVersion))
            {
                Error($"{path}.apiVersion", "azure-openai providers need an api-version. Fix: e.g. \"2024-10-21\".");
            }

            if (provider.HttpVersion is not (null or "1.1" or "2"))
            {
                Error($"{path}.httpVersion", $"'{provider.HttpVersion}' is not a supported HTTP version. Fix: \"1.1\" (default) or \"2\".");
            }

            var apiKey = ResolveCredential(configDirectory, gatewayPath, $"{path}.apiKey", provider.ApiKey, errors);
            if (api is not null && baseUrl is not null)
            {
                providers[name] = new UpstreamProvider
                {
                    Name = name,
                    Api = api.Value,
                    BaseUrl = baseUrl,
                    IsEmbeddedSimulator = embedded,
                    ApiVersion = provider.ApiVersion,
                    ApiKey = apiKey,
                    PropagateTraceContext = provider.PropagateTraceContext,
                    HttpVersion = provider.HttpVersion,
                };
            }
        }

        // Models.
        var models = new List<ModelRoute>();
        var byName = new Dictionary<string, ModelRoute>(StringComparer.OrdinalIgnoreCase);
        if (gateway.Models.Count == 0)
        {
            Error("$.models", "no model is declared. Fix: add at least one model with a deployment.");
        }

        foreach (var (name, model) in gateway.Models)
        {
            var path = $"$.models['{name}']";
            if (string.IsNullOrWhiteSpace(name) || name.Contains('*', StringComparison.Ordinal))
            {
                Error(path, "a model name must be non-empty and contain no '*'.");
                continue;
            }

            if (!TryParseLevel(model.Ceiling, out var ceiling))
            {
                Error($"{path}.ceiling", $"'{model.Ceiling}' is not a marking level. Fix: one of UNCLASSIFIED, CUI, CONFIDENTIAL, SECRET, TOP SECRET.");
            }

            if (model.Deployments.Count == 0)
            {
                Error($"{path}.deployments", "a model needs at least one deployment. Fix: add { \"provider\": \"<provider name>\" }.");
            }

            var deployments = new List<UpstreamDeployment>();
            ProviderApi? modelApi = null;
            for (var i = 0; i < model.Deployments.Count; i++)
            {
                var deployment = model.Deployments[i];
                var dpath = $"{path}.deployments[{i}]";
                if (deployment.Provider is null || !gateway.Providers.ContainsKey(deployment.Provider))
                {
                    Error($"{dpath}.provider", $"'{deployment.Provider}' is not a provider in $.providers. Fix: name one of: {string.Join(", ", gateway.Providers.Keys)}.");
                    continue;
                }

                if (!providers.TryGetValue(deployment.Provider, out var provider))
                {
                    continue; // the provider's own error is already reported
                }

                if (provider.Api == ProviderApi.AzureOpenAI && string.IsNullOrWhiteSpace(deployment.Deployment))
                {
                    Error($"{dpath}.deployment", "an azure-openai deployment needs its deployment name. Fix: add \"deployment\": \"<name in Azure>\".");
                }

                if (modelApi is not null && modelApi != provider.Api && !(IsOpenAIFamily(modelApi.Value) && IsOpenAIFamily(provider.Api)))
                {
                    Error($"{dpath}.provider", "all deployments of a model must speak the same API family (OpenAI/Azure OpenAI, or Anthropic).");
                }

                modelApi ??= provider.Api;
                deployments.Add(new UpstreamDeployment
                {
                    DestinationId = $"{i}:{provider.Name}",
                    Provider = provider,
                    AzureDeployment = deployment.Deployment,
                    UpstreamModel = deployment.Model ?? deployment.Deployment ?? name,
                });
            }

            LimitSet.Validate(model.Limits, $"{path}.limits", Error);
            if (model.Pricing is { } pricing && (pricing.InputPerMillion < 0 || pricing.OutputPerMillion < 0 || pricing.CachedInputPerMillion < 0 || pricing.CacheWritePerMillion < 0))
            {
                Error($"{path}.pricing", "prices must not be negative.");
            }

            var route = new ModelRoute
            {
                Limits = LimitSet.From(model.Limits),
                Pricing = ModelPricing.From(model.Pricing),
                Name = name,
                Aliases = [.. model.Aliases],
                Ceiling = ceiling,
                Description = model.Description,
                ClusterId = "model:" + name,
                Deployments = deployments,
                DeploymentsByDestination = deployments.ToFrozenDictionary(d => d.DestinationId, StringComparer.Ordinal),
            };

            foreach (var key in (string[])[name, .. model.Aliases])
            {
                if (!byName.TryAdd(key, route))
                {
                    Error(path, $"the name or alias '{key}' is already used by model '{byName[key].Name}'. Fix: names and aliases must be unique.");
                }
            }

            if (deployments.Count > 0)
            {
                models.Add(route);
            }
        }

        var audit = Audit.AuditSettings.Validate(
            gateway.Audit,
            (reference, path) => ResolveCredential(configDirectory, gatewayPath, path, reference, errors),
            Error);
        var agencies = ValidateAgencies(agencyFiles, byName, isProduction, errors);

        if (errors.Count > 0)
        {
            return null;
        }

        return new GatewaySnapshot
        {
            Version = Interlocked.Increment(ref s_version),
            ConfigDirectory = configDirectory,
            RequestLimits = gateway.RequestLimits,
            Forwarding = gateway.Forwarding,
            Providers = providers.ToFrozenDictionary(StringComparer.Ordinal),
            Models = models,
            ModelsByName = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Agencies = agencies.ToFrozenDictionary(StringComparer.Ordinal),
            Audit = audit,
            LimitStore = gateway.LimitStore,
        };
    }

    private static Dictionary<string, AgencyPolicy> ValidateAgencies(
        List<(string Path, AgencyFileConfig Config)> files,
        Dictionary<string, ModelRoute> models,
        bool isProduction,
        List<ConfigError> errors)
    {
        var agencies = new Dictionary<string, AgencyPolicy>(StringComparer.Ordinal);
        foreach (var (file, agency) in files)
        {
            void Error(string path, string message) => errors.Add(new(file, path, message));

            var expected = Path.GetFileNameWithoutExtension(file);
            if (!string.Equals(agency.Name, expected, StringComparison.Ordinal))
            {
                Error("$.name", $"'{agency.Name}' must equal the file name '{expected}'. Fix: set \"name\": \"{expected}\" or rename the file.");
            }

            CheckPatterns(agency.Models, "$.models", models, Error);
            if (agency.Models.Count == 0)
            {
                Error("$.models", "the agency may use no model. Fix: list model names, aliases or '*'.");
            }

            var roles = new Dictionary<string, RolePolicy>(StringComparer.Ordinal);
            foreach (var (role, grant) in agency.Roles)
            {
                CheckPatterns(grant.Models, $"$.roles['{role}'].models", models, Error);
                if (grant.WorkloadModels is not null)
                {
                    CheckPatterns(grant.WorkloadModels, $"$.roles['{role}'].workloadModels", models, Error);
                }

                var person = new ModelPatternSet(grant.Models);
                LimitSet.Validate(grant.Limits, $"$.roles['{role}'].limits", Error);
                roles[role] = new RolePolicy(role, person, grant.WorkloadModels is null ? person : new ModelPatternSet(grant.WorkloadModels), LimitSet.From(grant.Limits));
            }

            var groups = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
            foreach (var (group, groupRoles) in agency.Groups)
            {
                for (var i = 0; i < groupRoles.Count; i++)
                {
                    if (!roles.ContainsKey(groupRoles[i]))
                    {
                        Error($"$.groups['{group}'][{i}]", $"'{groupRoles[i]}' is not a role of this agency. Fix: declare it under $.roles.");
                    }
                }

                groups[group] = groupRoles;
            }

            IdentityProviderValidator.Validate(agency.Identity, isProduction, Error);
            var inspection = ValidateInspection(agency.Inspection, Error);
            var auditOnFailure = Audit.AuditSettings.ValidateAgency(agency.Audit, Error);
            var limits = ValidateLimits(agency.Limits, roles, Error);
            var governance = Scim.AgencyGovernance.Validate(agency, roles, isProduction, Error);

            if (agency.Name is not null && agencies.ContainsKey(agency.Name))
            {
                Error("$.name", $"agency '{agency.Name}' is declared twice.");
            }

            agencies[agency.Name ?? expected] = new AgencyPolicy
            {
                Name = agency.Name ?? expected,
                DisplayName = agency.DisplayName ?? agency.Name ?? expected,
                SourceFile = file,
                Models = new ModelPatternSet(agency.Models),
                IdentityProviders = agency.Identity.Providers,
                Roles = roles.ToFrozenDictionary(StringComparer.Ordinal),
                GroupRoles = groups.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
                Inspection = inspection,
                AuditOnFailure = auditOnFailure,
                AuditCaptureContent = agency.Audit.CaptureContent,
                Limits = limits with { AdminRoles = governance.AdminRoles },
                Governance = governance,
            };
        }

        IdentityProviderValidator.CheckIssuersAreUnique(agencies.Values, errors);
        return agencies;
    }

    private static void ValidateLimitStore(LimitStoreConfig store, string configDirectory, string file, List<ConfigError> errors)
    {
        switch (store.Type)
        {
            case "embedded":
                break;
            case "redis":
                if (string.IsNullOrWhiteSpace(store.Redis))
                {
                    errors.Add(new(file, "$.limitStore.redis", "a redis store needs its endpoint. Fix: e.g. \"redis.aigateway.svc:6379\" (password through redisPassword)."));
                }
                else if (store.Redis.Contains("password=", StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add(new(file, "$.limitStore.redis", "the password must not be written in the config. Fix: remove it and use \"redisPassword\": { \"env\": \"…\" }."));
                }

                break;
            default:
                errors.Add(new(file, "$.limitStore.type", $"'{store.Type}' is not a store. Fix: 'embedded' (single node) or 'redis' (shared by replicas)."));
                break;
        }

        if (store.TimeoutMilliseconds is < 10 or > 10_000)
        {
            errors.Add(new(file, "$.limitStore.timeoutMilliseconds", "must be between 10 and 10000."));
        }

        if (store.BreakSeconds is < 0.1 or > 300)
        {
            errors.Add(new(file, "$.limitStore.breakSeconds", "must be between 0.1 and 300."));
        }

        if (store.RedisPassword is not null)
        {
            ResolveCredential(configDirectory, file, "$.limitStore.redisPassword", store.RedisPassword, errors);
        }
    }

    private static AgencyLimits ValidateLimits(AgencyLimitsConfig config, Dictionary<string, RolePolicy> roles, Action<string, string> error)
    {
        LimitSet.Validate(config.PerCaller, "$.limits.perCaller", error);
        LimitSet.Validate(config.Agency, "$.limits.agency", error);
        var callers = new Dictionary<string, LimitSet>(StringComparer.Ordinal);
        foreach (var (subject, limits) in config.Callers)
        {
            LimitSet.Validate(limits, $"$.limits.callers['{subject}']", error);
            callers[subject] = LimitSet.From(limits);
        }

        if (config.DefaultMaxOutputTokens is < 1 or > 1_000_000)
        {
            error("$.limits.defaultMaxOutputTokens", "must be between 1 and 1000000.");
        }

        var failOpen = config.OnStoreFailure switch
        {
            "fail-closed" => false,
            "fail-open" => true,
            _ => FailWith(error, "$.limits.onStoreFailure", $"'{config.OnStoreFailure}' is not a policy. Fix: 'fail-closed' (503 while the store is down, the default) or 'fail-open' (local limits)."),
        };

        if (config.FailOpenShare is <= 0 or > 1)
        {
            error("$.limits.failOpenShare", "must be greater than 0 and at most 1.");
        }

        for (var i = 0; i < config.AdminRoles.Count; i++)
        {
            if (!roles.ContainsKey(config.AdminRoles[i]))
            {
                error($"$.limits.adminRoles[{i}]", $"'{config.AdminRoles[i]}' is not a role of this agency. Fix: declare it under $.roles.");
            }
        }

        return new AgencyLimits(LimitSet.From(config.PerCaller), LimitSet.From(config.Agency), callers, config.DefaultMaxOutputTokens, failOpen, config.FailOpenShare, config.AdminRoles);

        static bool FailWith(Action<string, string> error, string path, string message)
        {
            error(path, message);
            return false;
        }
    }

    private static InspectionPolicy ValidateInspection(InspectionConfig config, Action<string, string> error)
    {
        var actions = new Dictionary<MarkingLevel, MarkingAction>();
        foreach (var (levelName, actionName) in config.Actions)
        {
            var path = $"$.inspection.actions['{levelName}']";
            if (!TryParseLevel(levelName, out var level) || level == MarkingLevel.Unclassified)
            {
                error(path, $"'{levelName}' is not a level that can exceed a ceiling. Fix: one of CUI, CONFIDENTIAL, SECRET, TOP SECRET.");
                continue;
            }

            MarkingAction? action = actionName switch { "block" => MarkingAction.Block, "flag" => MarkingAction.Flag, _ => null };
            if (action is null)
            {
                error(path, $"'{actionName}' is not an action. Fix: 'block' (refuse, the default) or 'flag' (forward and record).");
                continue;
            }

            actions[level] = action.Value;
        }

        var flagUnclassified = config.UnclassifiedMarkings switch
        {
            "allow" => false,
            "flag" => true,
            _ => Fail(error, "$.inspection.unclassifiedMarkings", $"'{config.UnclassifiedMarkings}' is not allowed. Fix: 'allow' (default) or 'flag'."),
        };

        MarkingAction Get(MarkingLevel level) => actions.TryGetValue(level, out var a) ? a : MarkingAction.Block;
        return new InspectionPolicy(Get(MarkingLevel.Cui), Get(MarkingLevel.Confidential), Get(MarkingLevel.Secret), Get(MarkingLevel.TopSecret),
            flagUnclassified, string.IsNullOrWhiteSpace(config.ClearanceClaim) ? null : config.ClearanceClaim, config.InspectAnswers);

        static bool Fail(Action<string, string> error, string path, string message)
        {
            error(path, message);
            return false;
        }
    }

    private static void CheckPatterns(List<string> patterns, string path, Dictionary<string, ModelRoute> models, Action<string, string> error)
    {
        for (var i = 0; i < patterns.Count; i++)
        {
            var pattern = patterns[i];
            if (string.IsNullOrWhiteSpace(pattern))
            {
                error($"{path}[{i}]", "an empty model pattern matches nothing. Fix: remove it.");
                continue;
            }

            if (!pattern.Contains('*', StringComparison.Ordinal) && !models.ContainsKey(pattern))
            {
                error($"{path}[{i}]", $"'{pattern}' is not a model or alias in gateway.json. Fix: use one of: {string.Join(", ", models.Keys)}, or a '*' wildcard.");
            }
        }
    }

    private static string? ResolveCredential(string configDirectory, string file, string path, CredentialReference? reference, List<ConfigError> errors)
    {
        if (reference is null)
        {
            return null;
        }

        if ((reference.Env is null) == (reference.File is null))
        {
            errors.Add(new(file, path, "give exactly one of \"env\" (environment variable name) or \"file\" (secret file path); never the key itself."));
            return null;
        }

        if (reference.Env is not null)
        {
            var value = Environment.GetEnvironmentVariable(reference.Env);
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add(new(file, $"{path}.env", $"environment variable '{reference.Env}' is not set. Fix: set it, or remove the provider."));
                return null;
            }

            return value.Trim();
        }

        var secretPath = Path.IsPathRooted(reference.File!) ? reference.File! : Path.Combine(configDirectory, reference.File!);
        try
        {
            var value = File.ReadAllText(secretPath).Trim();
            if (value.Length == 0)
            {
                errors.Add(new(file, $"{path}.file", $"secret file '{secretPath}' is empty."));
                return null;
            }

            return value;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add(new(file, $"{path}.file", $"secret file '{secretPath}' cannot be read ({ex.GetType().Name}). Fix: check the path and permissions."));
            return null;
        }
    }

    internal static bool TryParseLevel(string? text, out MarkingLevel level)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "UNCLASSIFIED":
                level = MarkingLevel.Unclassified;
                return true;
            case "CUI":
                level = MarkingLevel.Cui;
                return true;
            case "CONFIDENTIAL":
                level = MarkingLevel.Confidential;
                return true;
            case "SECRET":
                level = MarkingLevel.Secret;
                return true;
            case "TOP SECRET" or "TOP_SECRET" or "TOPSECRET":
                level = MarkingLevel.TopSecret;
                return true;
            default:
                level = MarkingLevel.Unclassified;
                return false;
        }
    }

    private static bool IsOpenAIFamily(ProviderApi api) => api is ProviderApi.OpenAI or ProviderApi.AzureOpenAI;

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
