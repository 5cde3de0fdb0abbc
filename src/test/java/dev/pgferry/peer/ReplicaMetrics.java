package dev.pgferry.peer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a pgferry replica's Prometheus metrics and health over its HTTP port. */
final class ReplicaMetrics {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private ReplicaMetrics() {}

    /** The value of the first line starting with {@code name} (a regex). */
    static double first(int httpPort, String name) throws Exception {
        String body = body(httpPort, "/q/metrics");
        Matcher m = Pattern.compile("^" + name + "\\S* (\\S+)$", Pattern.MULTILINE).matcher(body);
        if (!m.find()) {
            throw new AssertionError(name + " not in the metrics at port " + httpPort + ":\n" + body);
        }
        return Double.parseDouble(m.group(1));
    }

    /** The sum of every line starting with {@code name} (a regex): a meter over all its tags; 0 when there is none. */
    static double sum(int httpPort, String name) throws Exception {
        Matcher m = Pattern.compile("^" + name + "\\S* (\\S+)$", Pattern.MULTILINE).matcher(body(httpPort, "/q/metrics"));
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    /** Whether the replica reports itself ready (what a Service's endpoints follow). */
    static boolean ready(int httpPort) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready"))
                    .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    private static String body(int httpPort, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
