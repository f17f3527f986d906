using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace AiGateway.Configuration;

/// <summary>
/// Holds the current <see cref="GatewaySnapshot"/> and reloads it when a file under the config directory
/// changes. An invalid new version is rejected (with every error logged) and the last good one keeps serving.
/// </summary>
internal sealed partial class GatewayConfigStore : IDisposable
{
    private static readonly TimeSpan s_debounce = TimeSpan.FromMilliseconds(200);

    private readonly string _directory;
    private readonly bool _isProduction;
    private readonly ILogger<GatewayConfigStore> _logger;
    private readonly PhysicalFileProvider _files;
    private readonly IDisposable _watch;
    private readonly Lock _reloadLock = new();
    private CancellationTokenSource _changed = new();
    private Timer? _debounceTimer;
    private GatewaySnapshot _current;

    public GatewayConfigStore(GatewaySnapshot initial, bool isProduction, ILogger<GatewayConfigStore> logger)
    {
        _current = initial;
        _directory = initial.ConfigDirectory;
        _isProduction = isProduction;
        _logger = logger;
        // DOTNET_USE_POLLING_FILE_WATCHER=true switches to polling (needed for Kubernetes ConfigMap symlink swaps).
        _files = new PhysicalFileProvider(Path.GetFullPath(_directory));
        _watch = ChangeToken.OnChange(() => _files.Watch("**/*.json"), ScheduleReload);
        Log.ConfigLoaded(_logger, _directory, initial.Version, initial.Models.Count, initial.Agencies.Count);
    }

    public GatewaySnapshot Current => Volatile.Read(ref _current);

    /// <summary>The errors of the last rejected reload, or null when the last reload succeeded.</summary>
    public IReadOnlyList<ConfigError>? LastRejectedErrors { get; private set; }

    /// <summary>Fires after a new snapshot has been applied.</summary>
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    private void ScheduleReload()
    {
        // Editors write files in several steps; wait for the writes to settle.
        lock (_reloadLock)
        {
            _debounceTimer ??= new Timer(_ => TryReload(), null, Timeout.Infinite, Timeout.Infinite);
            _debounceTimer.Change(s_debounce, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Loads and validates the files again; applies the result only when it is valid.</summary>
    public bool TryReload()
    {
        lock (_reloadLock)
        {
            GatewaySnapshot next;
            try
            {
                next = GatewayConfigLoader.Load(_directory, _isProduction);
            }
            catch (ConfigValidationException ex)
            {
                LastRejectedErrors = ex.Errors;
                Log.ConfigReloadRejected(_logger, Current.Version, ex.Message);
                return false;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.ConfigReloadFailed(_logger, ex);
                return false;
            }

            LastRejectedErrors = null;
            if (!string.Equals(Identity.IssuerDirectory.Fingerprint(next), Identity.IssuerDirectory.Fingerprint(Current), StringComparison.Ordinal))
            {
                // Authentication schemes are registered once per process (see IssuerDirectory).
                Log.IdentityProvidersChanged(_logger);
            }

            Volatile.Write(ref _current, next);
            var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
            previous.Cancel();
            previous.Dispose();
            Log.ConfigLoaded(_logger, _directory, next.Version, next.Models.Count, next.Agencies.Count);
            return true;
        }
    }

    public void Dispose()
    {
        _watch.Dispose();
        _debounceTimer?.Dispose();
        _files.Dispose();
        _changed.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ConfigLoaded, LogLevel.Information, "Configuration version {Version} loaded from {Directory}: {ModelCount} models, {AgencyCount} agencies.", EventName = "ConfigLoaded")]
        public static partial void ConfigLoaded(ILogger logger, string directory, long version, int modelCount, int agencyCount);

        [LoggerMessage(EventIds.ConfigReloadRejected, LogLevel.Error, "Configuration change rejected; version {Version} keeps serving. {Errors}", EventName = "ConfigReloadRejected")]
        public static partial void ConfigReloadRejected(ILogger logger, long version, string errors);

        [LoggerMessage(EventIds.IdentityProvidersChanged, LogLevel.Warning, "An agency's identity providers changed: the change applies after a restart; tokens are validated with the providers the gateway started with.", EventName = "IdentityProvidersChanged")]
        public static partial void IdentityProvidersChanged(ILogger logger);

        [LoggerMessage(EventIds.ConfigReloadFailed, LogLevel.Error, "Configuration files could not be read; the current version keeps serving.", EventName = "ConfigReloadFailed")]
        public static partial void ConfigReloadFailed(ILogger logger, Exception exception);
    }
}
