package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the sessions of a pool know about its server's parameters, learned from fresh backends. */
class PoolParametersTest {
    private final PoolParameters known = new PoolParameters();

    @Test
    void theFirstFreshBackendTeachesTheServerParameters() {
        assertThat(known.known()).isFalse();
        assertThat(known.serverParams()).isNull();
        known.learn(Map.of("TimeZone", "UTC"), false);
        known.learn(Map.of("TimeZone", "Europe/Paris"), false);
        assertThat(known.known()).isTrue();
        assertThat(known.serverParams()).as("known ones are kept").containsOnly(Map.entry("TimeZone", "UTC"));
    }

    @Test
    void afterKillOrReconnectTheNextBackendOpenedWhileRunningTeachesThemAgain() {
        known.learn(Map.of("TimeZone", "UTC"), false);
        known.serverChanged();
        assertThat(known.known()).isFalse();
        assertThat(known.serverParams()).as("still there for logins under way").isNotNull();
        known.learn(Map.of("TimeZone", "Asia/Tokyo"), true);
        assertThat(known.known()).as("not from a backend that finished opening while paused").isFalse();
        known.learn(Map.of("TimeZone", "Asia/Tokyo"), false);
        assertThat(known.known()).isTrue();
        assertThat(known.serverParams()).containsOnly(Map.entry("TimeZone", "Asia/Tokyo"));
    }

    @Test
    void startupValuesAreCheckedOnceAndTakeTheServersSpelling() {
        Map<String, String> startup = new LinkedHashMap<>();
        startup.put("DateStyle", "iso");
        startup.put("application_name", "app");
        assertThat(known.startupChecked(startup)).isFalse();
        known.startupChecked("DateStyle", "iso", "ISO, MDY");
        assertThat(known.startupChecked(startup)).as("one value is not checked yet").isFalse();
        known.startupChecked("application_name", "app", "app");
        assertThat(known.startupChecked(startup)).isTrue();
        assertThat(known.normalizedStartup(startup))
                .containsExactly(Map.entry("DateStyle", "ISO, MDY"), Map.entry("application_name", "app"));
        assertThat(known.startupChecked(Map.of("DateStyle", "German"))).as("checked per value").isFalse();
    }

    @Test
    void clientsOfOnePoolShareSignaturesThroughIt() {
        SessionParameters a = new SessionParameters(Map.of("TimeZone", "UTC"), Map.of("search_path", "s"),
                known.signatures());
        SessionParameters b = new SessionParameters(Map.of("TimeZone", "UTC"), Map.of("search_path", "s"),
                known.signatures());
        assertThat(a.signature()).isSameAs(b.signature());
        assertThat(a.signature()).isNotSameAs(new SessionParameters(Map.of("TimeZone", "UTC"),
                Map.of("search_path", "s")).signature());
    }
}
