package dev.pgferry.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.pgferry.config.PgferryConfig;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.WithDefault;
import java.io.File;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks the manifests under {@code kubernetes/} against pgferry's own configuration: ports, probe paths,
 * drain timeout, mounted files, selectors and the pod's security settings.
 *
 * <p>Each directory is rendered with {@code kubectl kustomize} when kubectl is on the PATH. Without it the
 * base is assembled from the {@code resources} (and {@code components}) lists of its kustomization.yaml files,
 * which is exact for a kustomization that has no transformers, as the base is kept; a kustomization that
 * uses anything else (the example overlay's {@code namespace}, {@code images}) is then skipped. Which path
 * was taken is printed. System property {@code pgferry.deploy.kubectl}: {@code auto} (default), {@code off}
 * (always assemble from files) or {@code required} (fail when kubectl is missing, for CI).
 *
 * <p>Configuration values are resolved as pgferry would see them in the pod: the container's environment,
 * then the application.properties file mounted in {@code /deployments/config}, then
 * {@code src/main/resources/application.properties} (built into the image), then the {@code @WithDefault}
 * of {@link PgferryConfig}.
 */
class KubernetesManifestTest {

    static final String BASE = "kubernetes";
    static final String OVERLAY = "kubernetes/overlays/example";
    /** The Service clients connect to, and the headless one the replicas find each other by (pgferry.peers-dns). */
    static final String CLIENT_SERVICE = "pgferry";
    static final String PEERS_SERVICE = "pgferry-peers";
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Path MAIN_PROPERTIES = ROOT.resolve("src/main/resources/application.properties");
    static final Path DOCKERFILE = ROOT.resolve("src/main/docker/Dockerfile.jvm");

    /** run-java.sh in the base image starts the JVM in JAVA_APP_DIR, /deployments. */
    static final String IMAGE_WORKING_DIR = "/deployments";
    /** Quarkus's own default for quarkus.http.port. */
    static final int QUARKUS_DEFAULT_HTTP_PORT = 8080;

    /** Kustomization fields that only list what to include: assembling the files by hand is exact. */
    static final Set<String> PLAIN_KUSTOMIZATION_FIELDS = Set.of("apiVersion", "kind", "resources", "components");

    /** Per directory: its rendering, or empty when it cannot be rendered on this machine. */
    static final Map<String, Optional<Rendering>> RENDERINGS = new ConcurrentHashMap<>();

    // ---------------------------------------------------------------------------------------------- probes

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void probesAskTheQuarkusHealthEndpointsOnTheHttpPort(String dir) {
        Pod pod = Pod.of(render(dir));
        int httpPort = pod.containerPort("http");
        assertThat(httpPort).as("container port named http").isEqualTo(QUARKUS_DEFAULT_HTTP_PORT);
        assertThat(httpPort)
                .as("container port http against quarkus.http.port in the pod")
                .isEqualTo(Integer.parseInt(pod.effective("quarkus.http.port").orElse("" + QUARKUS_DEFAULT_HTTP_PORT)));

        Map<String, String> expected = Map.of(
                "startupProbe", "/q/health/started",
                "livenessProbe", "/q/health/live",
                "readinessProbe", "/q/health/ready");
        expected.forEach((probe, path) -> {
            Map<String, Object> httpGet = Y.map(pod.container, probe, "httpGet");
            assertThat(httpGet).as("%s.httpGet in %s", probe, dir).isNotNull();
            assertThat(httpGet.get("path")).as("%s path", probe).isEqualTo(path);
            Object port = httpGet.get("port");
            assertThat(port).as("%s port: by name, so it follows the container port", probe).isEqualTo("http");
            assertThat(pod.resolvePort(port)).as("%s port number", probe).isEqualTo(httpPort);
        });
    }

    // ---------------------------------------------------------------------------------------------- ports

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void postgresPortIsTheListenPortPgferryWillBind(String dir) {
        Pod pod = Pod.of(render(dir));
        int containerPort = pod.containerPort("postgres");
        int effective = Integer.parseInt(pod.effective("pgferry.listen-port").orElseThrow());
        assertThat(containerPort)
                .as("container port postgres against pgferry.listen-port as the pod resolves it")
                .isEqualTo(effective);

        String imageDefault = mainProperties().getProperty("pgferry.listen-port", withDefault("pgferry.listen-port"));
        assertThat(containerPort)
                .as("container port postgres against pgferry.listen-port in %s", ROOT.relativize(MAIN_PROPERTIES))
                .isEqualTo(Integer.parseInt(imageDefault));
    }

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void serviceTargetsTheContainerPorts(String dir) {
        Rendering r = render(dir);
        Pod pod = Pod.of(r);
        Map<String, Object> service = r.service(CLIENT_SERVICE);
        assertThat(Y.str(service, "spec", "type")).isIn(null, "ClusterIP");
        assertThat(Y.str(service, "spec", "clusterIP")).as("the client Service balances: not headless").isNotEqualTo("None");
        Map<String, Map<String, Object>> ports = new java.util.HashMap<>();
        for (Map<String, Object> p : Y.<Map<String, Object>>list(service, "spec", "ports")) {
            ports.put((String) p.get("name"), p);
        }
        assertThat(ports).containsOnlyKeys("postgres", "http");
        for (String name : List.of("postgres", "http")) {
            Map<String, Object> port = ports.get(name);
            Object target = port.getOrDefault("targetPort", port.get("port"));
            assertThat(pod.resolvePort(target))
                    .as("Service port %s targets container port %s", name, name)
                    .isEqualTo(pod.containerPort(name));
            assertThat(port.get("port")).as("Service port %s number", name).isEqualTo(pod.containerPort(name));
        }
        assertThat(pod.labels)
                .as("Service selector matches the pod labels")
                .containsAllEntriesOf(nonEmptyLabels(Y.map(service, "spec", "selector"), "Service selector"));
    }

    // ---------------------------------------------------------------------------------------------- shutdown

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void gracePeriodCoversPreStopSleepAndDrainTimeout(String dir) {
        Pod pod = Pod.of(render(dir));
        Duration drain = DurationConverter.parseDuration(pod.effective("pgferry.shutdown.drain-timeout").orElseThrow());
        long preStop = pod.preStopSleepSeconds();
        Object grace = Y.at(pod.spec, "terminationGracePeriodSeconds");
        assertThat(grace).as("terminationGracePeriodSeconds is set (default 30s is not enough)").isInstanceOf(Integer.class);

        assertThat(preStop).as("preStop sleep, so endpoint removal propagates before the drain").isPositive();
        assertThat(Duration.ofSeconds((Integer) grace))
                .as("terminationGracePeriodSeconds > preStop sleep %ss + pgferry.shutdown.drain-timeout %s", preStop, drain)
                .isGreaterThan(drain.plusSeconds(preStop));
    }

    // ---------------------------------------------------------------------------------------------- security

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void podRunsLockedDown(String dir) {
        Pod pod = Pod.of(render(dir));
        Map<String, Object> podSc = Objects.requireNonNullElse(Y.map(pod.spec, "securityContext"), Map.of());
        Map<String, Object> sc = Objects.requireNonNullElse(Y.map(pod.container, "securityContext"), Map.of());

        Object runAsNonRoot = sc.containsKey("runAsNonRoot") ? sc.get("runAsNonRoot") : podSc.get("runAsNonRoot");
        assertThat(runAsNonRoot).as("runAsNonRoot (container, else pod)").isEqualTo(true);
        assertThat(sc.get("readOnlyRootFilesystem")).as("readOnlyRootFilesystem").isEqualTo(true);
        assertThat(sc.get("allowPrivilegeEscalation")).as("allowPrivilegeEscalation").isEqualTo(false);
        assertThat(Y.<String>list(sc, "capabilities", "drop")).as("capabilities.drop").contains("ALL");
        assertThat(Y.list(sc, "capabilities", "add")).as("capabilities.add").isNullOrEmpty();

        // A read-only root needs somewhere writable for the JVM and Vert.x: /tmp on an emptyDir.
        Map<String, Object> tmp = pod.volumeMountedAt("/tmp");
        assertThat(tmp).as("a volume mounted at /tmp").isNotNull();
        assertThat(tmp).as("/tmp volume").containsKey("emptyDir");

        Object runAsUser = sc.containsKey("runAsUser") ? sc.get("runAsUser") : podSc.get("runAsUser");
        if (runAsUser != null) {
            assertThat(runAsUser).as("runAsUser is the image's USER").isEqualTo(Integer.parseInt(dockerfileUser()));
        }
    }

    // ---------------------------------------------------------------------------------------------- selectors

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void pdbHpaAndSpreadingSelectThePgferryPods(String dir) {
        Rendering r = render(dir);
        Pod pod = Pod.of(r);
        Map<String, Object> statefulSet = r.one("StatefulSet");
        assertThat(pod.labels).containsEntry("app.kubernetes.io/name", "pgferry");
        assertThat(pod.labels)
                .as("StatefulSet selector")
                .containsAllEntriesOf(nonEmptyLabels(Y.map(statefulSet, "spec", "selector", "matchLabels"), "StatefulSet"));

        Map<String, Object> pdb = r.one("PodDisruptionBudget");
        assertThat(Y.str(pdb, "apiVersion")).isEqualTo("policy/v1");
        assertThat(Y.at(pdb, "spec", "minAvailable")).isEqualTo(1);
        assertThat(Y.map(pdb, "spec", "selector")).as("PDB selector uses matchLabels only").containsOnlyKeys("matchLabels");
        assertThat(pod.labels)
                .as("PodDisruptionBudget selector matches the pod labels")
                .containsAllEntriesOf(nonEmptyLabels(Y.map(pdb, "spec", "selector", "matchLabels"), "PDB"));

        Map<String, Object> hpa = r.one("HorizontalPodAutoscaler");
        assertThat(Y.str(hpa, "apiVersion")).isEqualTo("autoscaling/v2");
        assertThat(Y.map(hpa, "spec", "scaleTargetRef"))
                .as("HPA scales the pgferry StatefulSet")
                .containsEntry("apiVersion", "apps/v1")
                .containsEntry("kind", "StatefulSet")
                .containsEntry("name", Y.str(statefulSet, "metadata", "name"));
        int min = (Integer) Y.at(hpa, "spec", "minReplicas");
        int max = (Integer) Y.at(hpa, "spec", "maxReplicas");
        assertThat(min).isEqualTo(2);
        assertThat(max).isEqualTo(6);
        assertThat((Integer) Y.at(statefulSet, "spec", "replicas")).isBetween(min, max);
        List<Map<String, Object>> metrics = Y.list(hpa, "spec", "metrics");
        assertThat(metrics).extracting(m -> m.get("type")).as("HPA metrics: clients waiting, then CPU")
                .containsExactly("Pods", "Resource");
        assertThat(Y.str(metrics.get(1), "resource", "name")).isEqualTo("cpu");
        assertThat(Y.map(metrics.get(1), "resource", "target"))
                .containsEntry("type", "Utilization")
                .containsEntry("averageUtilization", 70);
        assertThat(Y.at(pod.container, "resources", "requests", "cpu"))
                .as("CPU utilization needs a CPU request")
                .isNotNull();

        List<Map<String, Object>> spread = Y.list(pod.spec, "topologySpreadConstraints");
        assertThat(spread).as("topologySpreadConstraints").isNotEmpty();
        assertThat(spread).extracting(c -> c.get("topologyKey")).contains("kubernetes.io/hostname");
        for (Map<String, Object> c : spread) {
            assertThat(pod.labels)
                    .as("topologySpreadConstraint on %s selects the pgferry pods", c.get("topologyKey"))
                    .containsAllEntriesOf(nonEmptyLabels(Y.map(c, "labelSelector", "matchLabels"), "spread"));
        }
        List<Map<String, Object>> anti = Y.list(pod.spec, "affinity", "podAntiAffinity",
                "preferredDuringSchedulingIgnoredDuringExecution");
        for (Map<String, Object> term : anti == null ? List.<Map<String, Object>>of() : anti) {
            assertThat(pod.labels)
                    .as("podAntiAffinity term selects the pgferry pods")
                    .containsAllEntriesOf(nonEmptyLabels(
                            Y.map(term, "podAffinityTerm", "labelSelector", "matchLabels"), "anti-affinity"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void everyObjectCarriesTheAppLabel(String dir) {
        for (Map<String, Object> doc : render(dir).docs()) {
            assertThat(Y.<String, Object>map(doc, "metadata", "labels"))
                    .as("labels of %s/%s", doc.get("kind"), Y.str(doc, "metadata", "name"))
                    .containsEntry("app.kubernetes.io/name", "pgferry");
        }
    }

    // ---------------------------------------------------------------------------------------------- files

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void configFileAndUserlistAreMountedWherePgferryLooks(String dir) {
        Pod pod = Pod.of(render(dir));
        MountedFile config = pod.file(pod.configFilePath());
        assertThat(config).as("a ConfigMap key mounted at %s", pod.configFilePath()).isNotNull();
        assertThat(config.sourceKind()).isEqualTo("ConfigMap");
        Properties props = properties(config.content());
        assertThat(props.getProperty("pgferry.listen-host")).as("listen-host in the ConfigMap").isEqualTo("0.0.0.0");
        assertThat(props.getProperty("pgferry.pool.size")).as("pool.size in the ConfigMap").isEqualTo("20");
        assertThat(props.getProperty("pgferry.backend.host")).as("backend host placeholder").isNotBlank();

        String usersFile = pod.effective("pgferry.auth.users-file").orElse(null);
        assertThat(usersFile).as("pgferry.auth.users-file").isEqualTo("/etc/pgferry/userlist.txt");
        MountedFile userlist = pod.file(usersFile);
        assertThat(userlist).as("a Secret key mounted at %s", usersFile).isNotNull();
        assertThat(userlist.sourceKind()).as("credentials come from a Secret").isEqualTo("Secret");
        List<String> lines = userlist.content().lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines).as("userlist.txt entries").isNotEmpty();
        assertThat(lines).allMatch(l -> l.matches("\"[^\"]+\"\\s+\"[^\"]*\".*"), "\"user\" \"secret\" per line");
    }

    // ---------------------------------------------------------------------------------------------- image

    @Test
    void imageExposesThePodsPortsAndBindsHttpOnAllInterfaces() throws IOException {
        Pod pod = Pod.of(render(BASE));
        String dockerfile = Files.readString(DOCKERFILE);
        Set<Integer> exposed = new LinkedHashSet<>();
        Matcher m = Pattern.compile("(?m)^EXPOSE\\s+(.+)$").matcher(dockerfile);
        while (m.find()) {
            for (String p : m.group(1).trim().split("\\s+")) {
                exposed.add(Integer.parseInt(p.replace("/tcp", "")));
            }
        }
        assertThat(exposed).contains(pod.containerPort("postgres"), pod.containerPort("http"));
        assertThat(dockerfile).contains("-Dquarkus.http.host=0.0.0.0");
        assertThat(dockerfile).containsPattern("(?m)^FROM .*ubi9/openjdk-17-runtime");
        assertThat(dockerfileUser()).isEqualTo("185");
        // run-java.sh of the base image reads JAVA_MAX_MEM_RATIO; a misspelt variable is silently ignored.
        assertThat(pod.envValue("JAVA_MAX_MEM_RATIO")).as("heap ratio for run-java.sh").hasValue("50");
        assertThat(pod.envValue("JAVA_MAX_RAM_RATIO")).as("not a run-java.sh variable").isEmpty();
        assertThat(dockerfile).doesNotContain("JAVA_MAX_RAM_RATIO");
    }

    // ---------------------------------------------------------------------------------------------- renderers

    /** With kubectl present, prove that assembling the base from files is what kustomize renders. */
    @Test
    void assemblingTheBaseFromFilesMatchesKubectlKustomize() {
        Optional<Path> kubectl = usableKubectl();
        Assumptions.assumeTrue(kubectl.isPresent(), "kubectl not used: nothing to compare with");
        Rendering files = fromFiles(BASE);
        assertThat(files).as("base must stay assemblable without kubectl").isNotNull();
        assertThat(sorted(files.docs())).isEqualTo(sorted(withKubectl(kubectl.get(), BASE).docs()));
    }

    @Test
    void overlayAddsAServiceMonitorScrapingMetricsOnTheHttpPort() {
        Rendering r = render(OVERLAY);
        Map<String, Object> monitor = r.one("ServiceMonitor");
        Map<String, Object> service = r.service(CLIENT_SERVICE);
        assertThat(Y.str(monitor, "apiVersion")).isEqualTo("monitoring.coreos.com/v1");
        Map<String, String> selector = nonEmptyLabels(Y.map(monitor, "spec", "selector", "matchLabels"), "ServiceMonitor");
        assertThat(Y.<String, Object>map(service, "metadata", "labels"))
                .as("ServiceMonitor selects the pgferry Service")
                .containsAllEntriesOf(selector);
        Map<String, Object> peersLabels = Y.map(r.service(PEERS_SERVICE), "metadata", "labels");
        assertThat(peersLabels.entrySet().containsAll(selector.entrySet()))
                .as("ServiceMonitor leaves out the headless peers Service (no http port): %s", peersLabels)
                .isFalse();
        List<Map<String, Object>> endpoints = Y.list(monitor, "spec", "endpoints");
        assertThat(endpoints).hasSize(1);
        assertThat(endpoints.get(0)).containsEntry("port", "http").containsEntry("path", "/q/metrics");
        assertThat(Y.<Map<String, Object>>list(service, "spec", "ports"))
                .extracting(p -> p.get("name"))
                .contains("http");
        String namespace = Y.str(service, "metadata", "namespace");
        assertThat(namespace).as("overlay namespace").isEqualTo("pgferry");
        for (Map<String, Object> doc : r.docs()) {
            if (!"Namespace".equals(doc.get("kind"))) {
                assertThat(Y.str(doc, "metadata", "namespace"))
                        .as("namespace of %s", doc.get("kind"))
                        .isEqualTo(namespace);
            }
        }
    }

    @Test
    void serviceMonitorStaysOutOfTheBase() {
        assertThat(render(BASE).docs()).noneMatch(d -> "ServiceMonitor".equals(d.get("kind")));
    }

    // =============================================================================================== helpers

    record Rendering(String dir, String how, List<Map<String, Object>> docs) {
        Map<String, Object> one(String kind) {
            List<Map<String, Object>> found = docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
            assertThat(found).as("exactly one %s in %s", kind, dir).hasSize(1);
            return found.get(0);
        }

        Map<String, Object> service(String name) {
            return named("Service", name).orElseGet(() -> fail("no Service %s in %s", name, dir));
        }

        Optional<Map<String, Object>> named(String kind, String name) {
            return docs.stream()
                    .filter(d -> kind.equals(d.get("kind")) && name.equals(Y.str(d, "metadata", "name")))
                    .findFirst();
        }
    }

    record MountedFile(String sourceKind, String sourceName, String key, String content) {}

    /** The pgferry container of a rendering's StatefulSet, with what it needs to resolve ports, files, config. */
    static final class Pod {
        final Rendering rendering;
        final Map<String, Object> spec;
        final Map<String, Object> container;
        final Map<String, String> labels;

        private Pod(Rendering rendering, Map<String, Object> spec, Map<String, Object> container, Map<String, String> labels) {
            this.rendering = rendering;
            this.spec = spec;
            this.container = container;
            this.labels = labels;
        }

        static Pod of(Rendering r) {
            Map<String, Object> template = Y.map(r.one("StatefulSet"), "spec", "template");
            Map<String, Object> spec = Y.map(template, "spec");
            List<Map<String, Object>> containers = Y.list(spec, "containers");
            List<Map<String, Object>> named = containers.stream().filter(c -> "pgferry".equals(c.get("name"))).toList();
            assertThat(named).as("one container named pgferry").hasSize(1);
            return new Pod(r, spec, named.get(0), Y.map(template, "metadata", "labels"));
        }

        int containerPort(String name) {
            List<Map<String, Object>> ports = Y.list(container, "ports");
            List<Map<String, Object>> found = ports.stream().filter(p -> name.equals(p.get("name"))).toList();
            assertThat(found).as("one container port named %s", name).hasSize(1);
            return (Integer) found.get(0).get("containerPort");
        }

        int resolvePort(Object port) {
            return port instanceof Integer i ? i : containerPort((String) port);
        }

        /** Where Quarkus reads config/application.properties: relative to the working directory. */
        String configFilePath() {
            String workingDir = (String) container.getOrDefault("workingDir", IMAGE_WORKING_DIR);
            return workingDir + "/config/application.properties";
        }

        Map<String, Object> volume(String name) {
            List<Map<String, Object>> volumes = Y.list(spec, "volumes");
            return volumes.stream().filter(v -> name.equals(v.get("name"))).findFirst()
                    .orElseGet(() -> fail("no volume " + name));
        }

        Map<String, Object> volumeMountedAt(String path) {
            for (Map<String, Object> mount : mounts()) {
                if (path.equals(mount.get("mountPath"))) {
                    return volume((String) mount.get("name"));
                }
            }
            return null;
        }

        List<Map<String, Object>> mounts() {
            List<Map<String, Object>> mounts = Y.list(container, "volumeMounts");
            return mounts == null ? List.of() : mounts;
        }

        /** The ConfigMap or Secret key that appears at an absolute path inside the container, or null. */
        MountedFile file(String path) {
            for (Map<String, Object> mount : mounts()) {
                String mountPath = (String) mount.get("mountPath");
                String subPath = (String) mount.get("subPath");
                String relative;
                if (subPath != null) {
                    if (!path.equals(mountPath)) continue;
                    relative = subPath;
                } else if (path.startsWith(mountPath.endsWith("/") ? mountPath : mountPath + "/")) {
                    relative = path.substring(mountPath.length()).replaceFirst("^/", "");
                } else {
                    continue;
                }
                Map<String, Object> volume = volume((String) mount.get("name"));
                String kind;
                String name;
                Map<String, Object> source;
                if (volume.containsKey("configMap")) {
                    kind = "ConfigMap";
                    source = Y.map(volume, "configMap");
                    name = (String) source.get("name");
                } else if (volume.containsKey("secret")) {
                    kind = "Secret";
                    source = Y.map(volume, "secret");
                    name = (String) source.get("secretName");
                } else {
                    return null;
                }
                String key = relative;
                List<Map<String, Object>> items = Y.list(source, "items");
                if (items != null) {
                    key = items.stream().filter(i -> relative.equals(i.get("path"))).map(i -> (String) i.get("key"))
                            .findFirst().orElse(null);
                    if (key == null) return null;
                }
                Map<String, Object> object = rendering.named(kind, name)
                        .orElseGet(() -> fail("%s %s mounted at %s is not in %s", kind, name, mountPath, rendering.dir()));
                String content = data(object, key);
                return content == null ? null : new MountedFile(kind, name, key, content);
            }
            return null;
        }

        /** A configuration value as pgferry in this pod resolves it (see the class comment). */
        Optional<String> effective(String key) {
            String env = key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
            Optional<String> fromEnv = envValue(env);
            if (fromEnv.isPresent()) return fromEnv;
            MountedFile config = file(configFilePath());
            if (config != null) {
                String v = properties(config.content()).getProperty(key);
                if (v != null) return Optional.of(v);
            }
            String v = mainProperties().getProperty(key);
            if (v != null) return Optional.of(v);
            return Optional.ofNullable(key.startsWith("pgferry.") ? withDefault(key) : null);
        }

        Optional<String> envValue(String name) {
            List<Map<String, Object>> env = Y.list(container, "env");
            for (Map<String, Object> e : env == null ? List.<Map<String, Object>>of() : env) {
                if (name.equals(e.get("name"))) {
                    assertThat(e).as("env %s must be a literal value for this test", name).containsKey("value");
                    return Optional.of(String.valueOf(e.get("value")));
                }
            }
            List<Map<String, Object>> envFrom = Y.list(container, "envFrom");
            for (Map<String, Object> from : envFrom == null ? List.<Map<String, Object>>of() : envFrom) {
                String prefix = Objects.requireNonNullElse((String) from.get("prefix"), "");
                if (!name.startsWith(prefix)) continue;
                String kind = from.containsKey("configMapRef") ? "ConfigMap" : "Secret";
                String ref = Y.str(from, kind.equals("ConfigMap") ? "configMapRef" : "secretRef", "name");
                Optional<Map<String, Object>> object = rendering.named(kind, ref);
                if (object.isPresent()) {
                    String v = data(object.get(), name.substring(prefix.length()));
                    if (v != null) return Optional.of(v);
                }
            }
            return Optional.empty();
        }

        long preStopSleepSeconds() {
            Map<String, Object> preStop = Y.map(container, "lifecycle", "preStop");
            if (preStop == null) return 0;
            if (preStop.containsKey("sleep")) {
                return ((Number) Y.at(preStop, "sleep", "seconds")).longValue();
            }
            List<Object> command = Y.list(preStop, "exec", "command");
            assertThat(command).as("preStop exec command").isNotNull();
            String joined = String.join(" ", command.stream().map(String::valueOf).toList());
            Matcher m = Pattern.compile("(?:^|[\\s/])sleep\\s+(\\d+)").matcher(joined);
            assertThat(m.find()).as("preStop is a sleep: %s", joined).isTrue();
            return Long.parseLong(m.group(1));
        }
    }

    static String data(Map<String, Object> object, String key) {
        Map<String, Object> data = Y.map(object, "data");
        Map<String, Object> stringData = Y.map(object, "stringData");
        if (stringData != null && stringData.containsKey(key)) {
            return String.valueOf(stringData.get(key));
        }
        if (data != null && data.containsKey(key)) {
            String v = String.valueOf(data.get(key));
            return "Secret".equals(object.get("kind"))
                    ? new String(Base64.getMimeDecoder().decode(v), StandardCharsets.UTF_8)
                    : v;
        }
        return null;
    }

    static Map<String, String> nonEmptyLabels(Map<String, String> labels, String what) {
        assertThat(labels).as("%s matchLabels (empty would select every pod)", what).isNotEmpty();
        assertThat(labels).as("%s matchLabels", what).containsEntry("app.kubernetes.io/name", "pgferry");
        return labels;
    }

    static Properties properties(String text) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    static Properties mainProperties() {
        try {
            return properties(Files.readString(MAIN_PROPERTIES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code @WithDefault} of a {@code pgferry.*} key on {@link PgferryConfig}: the default in the code. */
    static String withDefault(String key) {
        String[] segments = key.substring("pgferry.".length()).split("\\.");
        Class<?> type = PgferryConfig.class;
        Method method = null;
        for (String segment : segments) {
            String name = Pattern.compile("-([a-z])").matcher(segment).replaceAll(g -> g.group(1).toUpperCase(Locale.ROOT));
            try {
                method = type.getMethod(name);
            } catch (NoSuchMethodException e) {
                return fail("%s: no method %s on %s", key, name, type.getName());
            }
            type = method.getReturnType();
        }
        WithDefault d = method.getAnnotation(WithDefault.class);
        return d == null ? null : d.value();
    }

    static String dockerfileUser() {
        try {
            Matcher m = Pattern.compile("(?m)^USER\\s+(\\S+)\\s*$").matcher(Files.readString(DOCKERFILE));
            String user = null;
            while (m.find()) user = m.group(1);
            assertThat(user).as("USER in %s", DOCKERFILE).isNotNull();
            return user;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------- rendering

    /** The rendering of a directory; the test is skipped when it cannot be rendered on this machine. */
    static Rendering render(String dir) {
        Optional<Rendering> r = RENDERINGS.computeIfAbsent(dir, KubernetesManifestTest::renderNow);
        Assumptions.assumeTrue(r.isPresent(), dir + " uses kustomize transformers (namespace, images, ...) that"
                + " only kubectl kustomize applies, and kubectl is not used here");
        return r.get();
    }

    private static Optional<Rendering> renderNow(String dir) {
        Optional<Path> kubectl = usableKubectl();
        Rendering r = kubectl.map(k -> withKubectl(k, dir)).orElseGet(() -> fromFiles(dir));
        System.out.printf("[KubernetesManifestTest] %s: %s%n", dir, r == null
                ? "SKIPPED, needs kubectl kustomize (kubectl " + (kubectl().isPresent() ? "turned off" : "not on the PATH") + ")"
                : r.docs().size() + " objects, rendered by " + r.how());
        return Optional.ofNullable(r);
    }

    /** kubectl unless -Dpgferry.deploy.kubectl=off; fails when it is missing and =required. */
    static Optional<Path> usableKubectl() {
        String mode = System.getProperty("pgferry.deploy.kubectl", "auto");
        Optional<Path> kubectl = "off".equals(mode) ? Optional.empty() : kubectl();
        if (kubectl.isEmpty() && "required".equals(mode)) {
            fail("-Dpgferry.deploy.kubectl=required but kubectl is not on the PATH");
        }
        return kubectl;
    }

    static Optional<Path> kubectl() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, "kubectl");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    static Rendering withKubectl(Path kubectl, String dir) {
        try {
            Path stderr = Files.createTempFile("kubectl-kustomize", ".err");
            try {
                Process p = new ProcessBuilder(kubectl.toString(), "kustomize", ROOT.resolve(dir).toString())
                        .redirectError(stderr.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return fail("kubectl kustomize %s did not finish in 120s", dir);
                }
                if (p.exitValue() != 0) {
                    return fail("kubectl kustomize %s exited %d: %s", dir, p.exitValue(), Files.readString(stderr));
                }
                return new Rendering(dir, "kubectl kustomize (" + kubectl + ")", parse(out));
            } finally {
                Files.deleteIfExists(stderr);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The documents of a kustomization that only lists resources and components, or null for any other. */
    static Rendering fromFiles(String dir) {
        List<Map<String, Object>> docs = new ArrayList<>();
        return assemble(ROOT.resolve(dir), docs)
                ? new Rendering(dir, "assembling kustomization.yaml resources from files (no kubectl)", docs)
                : null;
    }

    private static boolean assemble(Path dir, List<Map<String, Object>> docs) {
        try {
            Path file = dir.resolve("kustomization.yaml");
            if (!Files.exists(file)) file = dir.resolve("kustomization.yml");
            List<Map<String, Object>> k = parse(Files.readString(file));
            assertThat(k).as("%s", file).hasSize(1);
            Map<String, Object> kustomization = k.get(0);
            if (!PLAIN_KUSTOMIZATION_FIELDS.containsAll(kustomization.keySet())) {
                return false;
            }
            for (String field : List.of("resources", "components")) {
                List<String> entries = Y.list(kustomization, field);
                for (String entry : entries == null ? List.<String>of() : entries) {
                    Path path = dir.resolve(entry).normalize();
                    if (Files.isDirectory(path)) {
                        if (!assemble(path, docs)) return false;
                    } else {
                        docs.addAll(parse(Files.readString(path)));
                    }
                }
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> parse(String multiDocumentYaml) {
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object doc : yaml.loadAll(multiDocumentYaml)) {
            if (doc != null) docs.add((Map<String, Object>) doc);
        }
        return docs;
    }

    static List<Map<String, Object>> sorted(List<Map<String, Object>> docs) {
        return docs.stream()
                .sorted(Comparator.comparing((Map<String, Object> d) -> String.valueOf(d.get("kind")))
                        .thenComparing(d -> String.valueOf(Y.str(d, "metadata", "name"))))
                .toList();
    }

    /** Untyped navigation in parsed YAML. */
    static final class Y {
        static Object at(Object node, String... path) {
            Object current = node;
            for (String key : path) {
                if (!(current instanceof Map<?, ?> m)) return null;
                current = m.get(key);
            }
            return current;
        }

        @SuppressWarnings("unchecked")
        static <K, V> Map<K, V> map(Object node, String... path) {
            return (Map<K, V>) at(node, path);
        }

        @SuppressWarnings("unchecked")
        static <T> List<T> list(Object node, String... path) {
            return (List<T>) at(node, path);
        }

        static String str(Object node, String... path) {
            Object v = at(node, path);
            return v == null ? null : String.valueOf(v);
        }
    }
}
