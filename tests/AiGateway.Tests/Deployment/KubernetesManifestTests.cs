using System.Text.Json.Nodes;
using AiGateway.Configuration;

namespace AiGateway.Tests.Deployment;

/// <summary>
/// Renders every overlay with <c>kubectl kustomize</c> and checks the objects a cluster would receive:
/// the hardening, probes, drain, scaling, network and secret-handling invariants of docs/deployment.md.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const string ExampleOverlay = "example-agency";

    public static TheoryData<string> Overlays()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(RepositoryFiles.PathOf("k8s", "overlays")))
        {
            data.Add(Path.GetFileName(dir));
        }

        return data;
    }

    private static List<JsonObject> Render(string overlay) => RepositoryFiles.Kustomize(RepositoryFiles.PathOf("k8s", "overlays", overlay));

    private static JsonObject Single(List<JsonObject> objects, string kind, string namePrefix) =>
        Assert.Single(objects, o => o["kind"].Str() == kind && o["metadata"]!["name"].Str().StartsWith(namePrefix, StringComparison.Ordinal));

    private static JsonObject GatewayContainer(JsonObject deployment) =>
        (JsonObject)deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single(c => c!["name"].Str() == "gateway")!;

    [Fact]
    public void Example_agency_overlay_exists()
    {
        Assert.True(Directory.Exists(RepositoryFiles.PathOf("k8s", "overlays", ExampleOverlay)));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Gateway_deployment_runs_at_least_two_hardened_replicas(string overlay)
    {
        var objects = Render(overlay);
        var deployment = Single(objects, "Deployment", "aigateway");
        Assert.True(deployment["spec"]!["replicas"].Int() >= 2);

        var pod = deployment["spec"]!["template"]!["spec"]!;
        Assert.Equal("true", pod["securityContext"]!["runAsNonRoot"].Str());
        Assert.NotEqual("0", pod["securityContext"]!["runAsUser"].Str());
        Assert.Equal("RuntimeDefault", pod["securityContext"]!["seccompProfile"]!["type"].Str());
        Assert.Equal("false", pod["automountServiceAccountToken"].Str());

        var container = GatewayContainer(deployment);
        var security = container["securityContext"]!;
        Assert.Equal("false", security["allowPrivilegeEscalation"].Str());
        Assert.Equal("true", security["readOnlyRootFilesystem"].Str());
        Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(c => c.Str()));
        Assert.Null(security["capabilities"]!["add"]);

        foreach (var bound in new[] { "requests", "limits" })
        {
            Assert.NotNull(container["resources"]![bound]!["cpu"]);
            Assert.NotNull(container["resources"]![bound]!["memory"]);
        }

        Assert.Equal("/healthz/live", container["livenessProbe"]!["httpGet"]!["path"].Str());
        Assert.Equal("/healthz/ready", container["readinessProbe"]!["httpGet"]!["path"].Str());
        Assert.Equal("http", container["readinessProbe"]!["httpGet"]!["port"].Str());
        Assert.Equal("8080", container["ports"]!.AsArray().Single(p => p!["name"].Str() == "http")!["containerPort"].Str());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Only_data_and_tmp_are_writable_and_data_is_a_volume(string overlay)
    {
        var deployment = Single(Render(overlay), "Deployment", "aigateway");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = GatewayContainer(deployment);
        var env = Env(container);
        Assert.Equal("/data", env["Gateway__DataDirectory"]);
        Assert.Equal("Production", env["ASPNETCORE_ENVIRONMENT"]);

        var volumes = pod["volumes"]!.AsArray().ToDictionary(v => v!["name"].Str(), v => v!);
        foreach (var mount in container["volumeMounts"]!.AsArray())
        {
            var volume = volumes[mount!["name"].Str()];
            var writable = mount["readOnly"]?.Str() != "true";
            if (writable)
            {
                Assert.Contains(mount["mountPath"].Str(), new[] { "/data", "/tmp" });
                Assert.True(volume["emptyDir"] is not null || volume["persistentVolumeClaim"] is not null, $"{mount["mountPath"]} must be an emptyDir or a PVC");
            }
        }

        Assert.Contains(container["volumeMounts"]!.AsArray(), m => m!["mountPath"].Str() == "/data");
        Assert.Contains(container["volumeMounts"]!.AsArray(), m => m!["mountPath"].Str() == "/config" && m["readOnly"].Str() == "true");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Termination_grace_period_exceeds_pre_stop_plus_drain(string overlay)
    {
        var deployment = Single(Render(overlay), "Deployment", "aigateway");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = GatewayContainer(deployment);
        var drain = int.Parse(Env(container)["Gateway__DrainSeconds"], System.Globalization.CultureInfo.InvariantCulture);
        var preStop = container["lifecycle"]?["preStop"]?["sleep"]?["seconds"]?.Int() ?? 0;
        Assert.True(pod["terminationGracePeriodSeconds"].Int() > preStop + drain, "the kubelet would kill streams still draining");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Service_hpa_and_pdb_target_the_gateway(string overlay)
    {
        var objects = Render(overlay);
        var deployment = Single(objects, "Deployment", "aigateway");
        var podLabels = deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();

        var service = Single(objects, "Service", "aigateway");
        foreach (var (key, value) in service["spec"]!["selector"]!.AsObject())
        {
            Assert.Equal(value.Str(), podLabels[key].Str());
        }

        Assert.Equal("http", service["spec"]!["ports"]![0]!["targetPort"].Str());

        var hpa = Single(objects, "HorizontalPodAutoscaler", "aigateway");
        Assert.Equal("Deployment", hpa["spec"]!["scaleTargetRef"]!["kind"].Str());
        Assert.Equal(deployment["metadata"]!["name"].Str(), hpa["spec"]!["scaleTargetRef"]!["name"].Str());
        Assert.True(hpa["spec"]!["minReplicas"].Int() >= 2);
        Assert.True(hpa["spec"]!["maxReplicas"].Int() >= hpa["spec"]!["minReplicas"].Int());

        var pdb = Single(objects, "PodDisruptionBudget", "aigateway");
        foreach (var (key, value) in pdb["spec"]!["selector"]!["matchLabels"]!.AsObject())
        {
            Assert.Equal(value.Str(), podLabels[key].Str());
        }

        Assert.True(pdb["spec"]!["minAvailable"] is not null || pdb["spec"]!["maxUnavailable"] is not null);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Gateway_egress_is_limited_to_dns_redis_collector_and_https(string overlay)
    {
        var objects = Render(overlay);
        var policy = Single(objects, "NetworkPolicy", "aigateway");
        Assert.Equal("aigateway", policy["spec"]!["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"].Str());
        Assert.Contains("Egress", policy["spec"]!["policyTypes"]!.AsArray().Select(t => t.Str()));
        Assert.Contains("Ingress", policy["spec"]!["policyTypes"]!.AsArray().Select(t => t.Str()));

        var allowedPorts = new HashSet<string> { "53", "6379", "4317", "4318", "443" };
        var egress = policy["spec"]!["egress"]!.AsArray();
        Assert.NotEmpty(egress);
        foreach (var rule in egress)
        {
            var to = rule!["to"]?.AsArray();
            Assert.True(to is { Count: > 0 }, "an egress rule without 'to' allows every destination");
            var ports = rule["ports"]?.AsArray();
            Assert.True(ports is { Count: > 0 }, "an egress rule without 'ports' allows every port");
            Assert.All(ports!, p => Assert.Contains(p!["port"].Str(), allowedPorts));
            foreach (var peer in to!)
            {
                if (peer!["ipBlock"] is { } block)
                {
                    Assert.NotEqual("0.0.0.0/0", block["cidr"].Str());
                    Assert.NotEqual("::/0", block["cidr"].Str());
                    Assert.Equal(["443"], ports!.Select(p => p!["port"].Str()));
                }
            }
        }

        // Redis and the collector accept traffic only from the gateway.
        foreach (var name in new[] { "redis", "otel-collector" })
        {
            var other = Single(objects, "NetworkPolicy", name);
            var from = other["spec"]!["ingress"]!.AsArray().SelectMany(r => r!["from"]!.AsArray()).ToList();
            Assert.All(from, peer => Assert.Equal("aigateway", peer!["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"].Str()));
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void No_secret_value_is_in_the_manifests(string overlay)
    {
        var objects = Render(overlay);
        Assert.DoesNotContain(objects, o => o["kind"].Str() == "Secret");
        foreach (var workload in objects.Where(o => o["kind"].Str() == "Deployment"))
        {
            var pod = workload["spec"]!["template"]!["spec"]!;
            foreach (var container in pod["containers"]!.AsArray())
            {
                foreach (var variable in container!["env"]?.AsArray() ?? [])
                {
                    var name = variable!["name"].Str();
                    if (name.Contains("KEY", StringComparison.OrdinalIgnoreCase) || name.Contains("SECRET", StringComparison.OrdinalIgnoreCase)
                        || name.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase) || name.Contains("AUTHORIZATION", StringComparison.OrdinalIgnoreCase)
                        || name.Contains("TOKEN", StringComparison.OrdinalIgnoreCase))
                    {
                        Assert.Null(variable["value"]);
                        Assert.NotNull(variable["valueFrom"]!["secretKeyRef"]);
                    }
                }
            }
        }

        var gateway = Single(objects, "Deployment", "aigateway");
        var volumes = gateway["spec"]!["template"]!["spec"]!["volumes"]!.AsArray();
        Assert.Contains(volumes, v => v!["secret"]?["secretName"]?.Str() == "aigateway-audit-signing-key");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Workloads_meet_the_restricted_pod_security_profile(string overlay)
    {
        foreach (var workload in Render(overlay).Where(o => o["kind"].Str() == "Deployment"))
        {
            var name = workload["metadata"]!["name"].Str();
            var pod = workload["spec"]!["template"]!["spec"]!;
            Assert.True(pod["securityContext"]?["runAsNonRoot"]?.Str() == "true", name);
            Assert.True(pod["securityContext"]?["seccompProfile"]?["type"]?.Str() == "RuntimeDefault", name);
            Assert.Null(pod["hostNetwork"]);
            foreach (var container in pod["containers"]!.AsArray())
            {
                var security = container!["securityContext"]!;
                Assert.True(security["allowPrivilegeEscalation"].Str() == "false", name);
                Assert.True(security["readOnlyRootFilesystem"].Str() == "true", name);
                Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(c => c.Str()));
                Assert.DoesNotContain(":latest", container["image"].Str(), StringComparison.Ordinal);
                Assert.Contains(":", container["image"].Str(), StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Mounted_configuration_is_valid_for_production(string overlay)
    {
        var objects = Render(overlay);
        var gateway = Single(objects, "Deployment", "aigateway");
        var config = gateway["spec"]!["template"]!["spec"]!["volumes"]!.AsArray().Single(v => v!["name"].Str() == "config")!;
        var root = Path.Combine(Path.GetTempPath(), "aigw-k8s-" + Guid.NewGuid().ToString("N"));
        try
        {
            // Lay the ConfigMap items out as the kubelet would under /config.
            foreach (var source in config["projected"]!["sources"]!.AsArray())
            {
                var mapName = source!["configMap"]!["name"].Str();
                var map = Single(objects, "ConfigMap", mapName);
                Assert.Equal(mapName, map["metadata"]!["name"].Str());
                foreach (var item in source["configMap"]!["items"]!.AsArray())
                {
                    var target = Path.Combine(root, item!["path"].Str());
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.WriteAllText(target, map["data"]![item["key"].Str()].Str());
                }
            }

            Assert.True(File.Exists(Path.Combine(root, GatewayConfigLoader.GatewayFileName)));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(root, GatewayConfigLoader.AgenciesFolder), "*.json"));
            try
            {
                GatewayConfigLoader.Load(root, isProduction: true);
            }
            catch (ConfigValidationException ex)
            {
                // Secrets are mounted or injected only in the cluster; every other error is a broken overlay.
                var errors = ex.Errors.Where(e => !e.Message.Contains("/run/secrets/", StringComparison.Ordinal) && !e.Message.Contains("environment variable", StringComparison.Ordinal)).ToList();
                Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static Dictionary<string, string> Env(JsonObject container) =>
        container["env"]!.AsArray().Where(e => e!["value"] is not null).ToDictionary(e => e!["name"].Str(), e => e!["value"].Str());
}
