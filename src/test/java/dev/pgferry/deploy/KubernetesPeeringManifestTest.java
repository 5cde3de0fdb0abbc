package dev.pgferry.deploy;

import static dev.pgferry.deploy.KubernetesManifestTest.BASE;
import static dev.pgferry.deploy.KubernetesManifestTest.OVERLAY;
import static dev.pgferry.deploy.KubernetesManifestTest.PEERS_SERVICE;
import static dev.pgferry.deploy.KubernetesManifestTest.ROOT;
import static dev.pgferry.deploy.KubernetesManifestTest.nonEmptyLabels;
import static dev.pgferry.deploy.KubernetesManifestTest.render;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.deploy.KubernetesManifestTest.Pod;
import dev.pgferry.deploy.KubernetesManifestTest.Rendering;
import dev.pgferry.deploy.KubernetesManifestTest.Y;
import dev.pgferry.peer.PeerIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The manifests' side of running several pgferry replicas as one (peering, the cluster budget, the HPA on clients
 * waiting): the StatefulSet gives each pod the ordinal its peer id comes from, the headless Service lets the replicas
 * find each other, and pgferry's settings in the pod point at both. Rendered as {@link KubernetesManifestTest} does.
 */
class KubernetesPeeringManifestTest {

    static final Path METRICS_SOURCES = ROOT.resolve("src/main/java/dev/pgferry/observability/metrics");

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void headlessServicePublishesEveryPodEvenNotReady(String dir) {
        Rendering r = render(dir);
        Pod pod = Pod.of(r);
        Map<String, Object> statefulSet = r.one("StatefulSet");
        Map<String, Object> peers = r.service(PEERS_SERVICE);

        assertThat(Y.str(statefulSet, "spec", "serviceName"))
                .as("StatefulSet serviceName: pod N is named pgferry-N.<that Service>")
                .isEqualTo(PEERS_SERVICE);
        assertThat(Y.str(statefulSet, "spec", "podManagementPolicy"))
                .as("pods start and stop together, as a Deployment's")
                .isEqualTo("Parallel");
        assertThat(Y.str(peers, "spec", "clusterIP")).as("peers Service is headless").isEqualTo("None");
        assertThat(Y.at(peers, "spec", "publishNotReadyAddresses"))
                .as("draining and starting pods stay in DNS, so they count in the cluster budget")
                .isEqualTo(true);
        assertThat(pod.labels)
                .as("peers Service selects the pgferry pods")
                .containsAllEntriesOf(nonEmptyLabels(Y.map(peers, "spec", "selector"), "peers Service"));
        List<Map<String, Object>> ports = Y.list(peers, "spec", "ports");
        assertThat(ports).extracting(p -> p.get("name")).containsExactly("postgres");
        assertThat(pod.resolvePort(ports.get(0).getOrDefault("targetPort", ports.get(0).get("port"))))
                .isEqualTo(pod.containerPort("postgres"));
    }

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void peersDnsNamesTheHeadlessServiceOnTheListenPort(String dir) {
        Rendering r = render(dir);
        Pod pod = Pod.of(r);
        String spec = pod.effective("pgferry.peers-dns").orElse(null);
        assertThat(spec).as("pgferry.peers-dns in the pod").isNotBlank();
        int colon = spec.lastIndexOf(':');
        assertThat(colon).as("pgferry.peers-dns is <service>:<port>: %s", spec).isPositive();
        String host = spec.substring(0, colon);
        String namespace = Y.str(r.service(PEERS_SERVICE), "metadata", "namespace");
        // The short name resolves through the pod's search domains in its own namespace; a full name must match it.
        assertThat(host.equals(PEERS_SERVICE)
                        || host.startsWith(PEERS_SERVICE + "." + (namespace == null ? "" : namespace + ".")))
                .as("peers-dns host %s is the Service %s (namespace %s)", host, PEERS_SERVICE, namespace)
                .isTrue();
        assertThat(Integer.parseInt(spec.substring(colon + 1)))
                .as("peers-dns port: cancels are forwarded to the pods' postgres port")
                .isEqualTo(pod.containerPort("postgres"));

        assertThat(pod.effective("pgferry.peer-id")).as("no fixed peer-id: each pod takes its ordinal + 1").isEmpty();
        assertThat(pod.envValue("HOSTNAME")).as("HOSTNAME is the pod name the id is read from").isEmpty();
        String name = Y.str(r.one("StatefulSet"), "metadata", "name");
        assertThat(PeerIdentity.statefulSet(name + "-3"))
                .as("pgferry reads the StatefulSet name back from a pod name")
                .isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {BASE, OVERLAY})
    void clusterBudgetLeavesEveryReplicaTheHpaMayStartABackend(String dir) {
        Rendering r = render(dir);
        int total = Integer.parseInt(Pod.of(r).effective("pgferry.pool.cluster-max-db-connections").orElseThrow());
        int maxReplicas = (Integer) Y.at(r.one("HorizontalPodAutoscaler"), "spec", "maxReplicas");
        assertThat(total).as("pgferry.pool.cluster-max-db-connections is set").isPositive();
        // A share is at least 1: below one backend per replica, the replicas together would exceed the total.
        assertThat(total).as("cluster budget against the HPA's maxReplicas").isGreaterThanOrEqualTo(maxReplicas);
    }

    @Test
    void hpaScalesOnClientsWaitingAsPgferryExportsIt() throws IOException {
        List<Map<String, Object>> metrics = Y.list(render(BASE).one("HorizontalPodAutoscaler"), "spec", "metrics");
        List<Map<String, Object>> pods = metrics.stream().filter(m -> "Pods".equals(m.get("type"))).toList();
        assertThat(pods).as("one Pods metric").hasSize(1);
        String name = Y.str(pods.get(0), "pods", "metric", "name");
        assertThat(name).isEqualTo("pgferry_clients_waiting");
        assertThat(Y.map(pods.get(0), "pods", "target")).containsEntry("type", "AverageValue").containsKey("averageValue");

        // The Prometheus name of the Micrometer meter pgferry.clients.waiting.
        String meter = '"' + name.replace('_', '.') + '"';
        try (Stream<Path> files = Files.list(METRICS_SOURCES)) {
            assertThat(files.filter(f -> f.toString().endsWith(".java")).anyMatch(f -> contains(f, meter)))
                    .as("a meter %s registered in %s", meter, ROOT.relativize(METRICS_SOURCES))
                    .isTrue();
        }
    }

    private static boolean contains(Path file, String text) {
        try {
            return Files.readString(file).contains(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
