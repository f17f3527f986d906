# AiGateway container image: build with the .NET 10 SDK, run on the chiseled ASP.NET Core runtime
# (no shell, no package manager, non-root). See docs/deployment.md.
#
#   docker build -t aigateway:dev .
#   docker run --read-only -v aigw-data:/data -v $PWD/config:/config:ro -p 8080:8080 aigateway:dev
#
# Base images are pinned to exact patch tags; a release pipeline should replace them with their digests
# (docker buildx imagetools inspect <image> → @sha256:…) so a rebuild cannot change the base silently.

ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0.100-noble
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0.0-noble-chiseled

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Restore first (cached while only sources change).
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY eng/ eng/
COPY src/AiGateway/AiGateway.csproj src/AiGateway/
COPY src/AiGateway.Markings/AiGateway.Markings.csproj src/AiGateway.Markings/
COPY src/LlmSimulator/LlmSimulator.csproj src/LlmSimulator/
RUN dotnet restore src/AiGateway/AiGateway.csproj
COPY config/ config/
COPY src/ src/
RUN dotnet publish src/AiGateway/AiGateway.csproj -c Release --no-restore -o /app /p:UseAppHost=false

FROM ${RUNTIME_IMAGE} AS final
WORKDIR /app
COPY --from=build --chown=root:root /app ./
# Configuration is mounted read-only at /config (Kubernetes ConfigMap); /data is the only writable path
# (audit journal, signing keys of the demo issuer). The root filesystem can be mounted read-only.
ENV ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_USE_POLLING_FILE_WATCHER=true \
    DOTNET_gcServer=1 \
    Gateway__ConfigDirectory=/config \
    Gateway__DataDirectory=/data \
    Gateway__DrainSeconds=30
VOLUME ["/data"]
EXPOSE 8080
# 64198 is the non-root "app" user of the chiseled images; numeric so runAsNonRoot can verify it.
USER 64198:64198
# Chiseled images have no shell or curl, so the app probes itself (`probe`: GET on loopback, exit 0 on 200).
# Kubernetes ignores this and uses httpGet probes on /healthz/live and /healthz/ready (k8s/base/deployment.yaml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["dotnet", "AiGateway.dll", "probe", "http://127.0.0.1:8080/healthz/live"]
ENTRYPOINT ["dotnet", "AiGateway.dll"]
