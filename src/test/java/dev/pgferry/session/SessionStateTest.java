package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.session.SessionState.Event;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one table of moves of a client connection, login included: every (state, event) pair, legal or not. */
class SessionStateTest {
    /** The legal moves, written out; every pair not here must be refused. */
    static final Object[][] MOVES = {
            {SessionState.STARTUP, Event.STARTUP_MESSAGE, SessionState.AUTHENTICATING},
            {SessionState.AUTHENTICATING, Event.AUTHENTICATED, SessionState.WELCOMING},
            {SessionState.WELCOMING, Event.WELCOMED, SessionState.IDLE},
            {SessionState.IDLE, Event.REQUEST, SessionState.LEASING},
            {SessionState.SKIPPING_TO_SYNC, Event.SYNC_SKIPPED, SessionState.IDLE},
            {SessionState.LEASING, Event.STALE, SessionState.CHECKING},
            {SessionState.LEASING, Event.NEEDS_RESTORE, SessionState.RESTORING},
            {SessionState.LEASING, Event.RELAY, SessionState.RELAYING},
            {SessionState.LEASING, Event.ANSWERED, SessionState.IDLE},
            {SessionState.LEASING, Event.ANSWERED_BEFORE_SYNC, SessionState.SKIPPING_TO_SYNC},
            {SessionState.CHECKING, Event.CHECK_FAILED, SessionState.LEASING},
            {SessionState.CHECKING, Event.NEEDS_RESTORE, SessionState.RESTORING},
            {SessionState.CHECKING, Event.RELAY, SessionState.RELAYING},
            {SessionState.CHECKING, Event.ANSWERED, SessionState.IDLE},
            {SessionState.CHECKING, Event.ANSWERED_BEFORE_SYNC, SessionState.SKIPPING_TO_SYNC},
            {SessionState.RESTORING, Event.RELAY, SessionState.RELAYING},
            {SessionState.RESTORING, Event.ANSWERED, SessionState.IDLE},
            {SessionState.RESTORING, Event.ANSWERED_BEFORE_SYNC, SessionState.SKIPPING_TO_SYNC},
            {SessionState.RELAYING, Event.FIXUP, SessionState.FIXUP},
            {SessionState.RELAYING, Event.RELEASED, SessionState.IDLE},
            {SessionState.FIXUP, Event.RELAY, SessionState.RELAYING},
    };

    @Test
    void everyPairMovesAsTheTableSaysOrIsRefused() {
        Map<SessionState, Map<Event, SessionState>> table = new EnumMap<>(SessionState.class);
        for (Object[] m : MOVES) {
            table.computeIfAbsent((SessionState) m[0], k -> new EnumMap<>(Event.class)).put((Event) m[1],
                    (SessionState) m[2]);
        }
        for (SessionState from : SessionState.values()) {
            for (Event e : Event.values()) {
                if (e == Event.CLOSE) {
                    continue;
                }
                SessionState expected = table.getOrDefault(from, Map.of()).get(e);
                if (expected == null) {
                    assertThatThrownBy(() -> from.on(e)).as(from + " on " + e)
                            .isInstanceOf(IllegalStateException.class).hasMessageContaining(from.name());
                } else {
                    assertThat(from.on(e)).as(from + " on " + e).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void closeEndsEveryStateEvenAClosedOne() {
        for (SessionState from : SessionState.values()) {
            assertThat(from.on(Event.CLOSE)).as(from.name()).isEqualTo(SessionState.CLOSED);
        }
    }

    @Test
    void aTransactionModeQueryGoesRoundToIdle() {
        SessionState s = SessionState.IDLE;
        for (Event e : new Event[] {Event.REQUEST, Event.RELAY, Event.RELEASED}) {
            s = s.on(e);
        }
        assertThat(s).isEqualTo(SessionState.IDLE);
        s = SessionState.IDLE;
        for (Event e : new Event[] {Event.REQUEST, Event.STALE, Event.NEEDS_RESTORE, Event.RELAY, Event.FIXUP,
                Event.RELAY, Event.RELEASED}) {
            s = s.on(e);
        }
        assertThat(s).isEqualTo(SessionState.IDLE);
    }

    @Test
    void aLoginEndsIdleWhenWelcomedAndClosedWhenRefusedAtAnyStep() {
        SessionState s = SessionState.STARTUP;
        for (Event e : new Event[] {Event.STARTUP_MESSAGE, Event.AUTHENTICATED, Event.WELCOMED}) {
            assertThat(s.loggingIn()).as(s.name()).isTrue();
            s = s.on(e);
        }
        assertThat(s).isEqualTo(SessionState.IDLE);
        assertThat(s.loggingIn()).isFalse();
        for (SessionState step : new SessionState[] {SessionState.STARTUP, SessionState.AUTHENTICATING,
                SessionState.WELCOMING}) {
            assertThat(step.on(Event.CLOSE)).as(step.name()).isEqualTo(SessionState.CLOSED);
        }
        assertThatThrownBy(() -> SessionState.STARTUP.on(Event.AUTHENTICATED)).as("authentication is not skipped")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> SessionState.AUTHENTICATING.on(Event.REQUEST)).as("no query before the welcome")
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void onlyTheLoginStatesAreLoggingIn() {
        for (SessionState s : SessionState.values()) {
            assertThat(s.loggingIn()).as(s.name()).isEqualTo(s == SessionState.STARTUP
                    || s == SessionState.AUTHENTICATING || s == SessionState.WELCOMING);
        }
    }

    @Test
    void onlyIdleStatesHoldNothing() {
        for (SessionState s : SessionState.values()) {
            assertThat(s.holdsNothing()).as(s.name())
                    .isEqualTo(s == SessionState.IDLE || s == SessionState.SKIPPING_TO_SYNC);
        }
    }

    @Test
    void labelsAreTheNamesAdminAndMetricsAlwaysRead() {
        Map<SessionState, String> labels = new EnumMap<>(SessionState.class);
        for (SessionState s : SessionState.values()) {
            labels.put(s, s.label);
        }
        assertThat(labels).containsExactly(Map.entry(SessionState.STARTUP, "login"),
                Map.entry(SessionState.AUTHENTICATING, "login"), Map.entry(SessionState.WELCOMING, "waiting_login"),
                Map.entry(SessionState.IDLE, "idle"),
                Map.entry(SessionState.SKIPPING_TO_SYNC, "idle"), Map.entry(SessionState.LEASING, "leasing"),
                Map.entry(SessionState.CHECKING, "restoring"), Map.entry(SessionState.RESTORING, "restoring"),
                Map.entry(SessionState.RELAYING, "leased"), Map.entry(SessionState.FIXUP, "fixup"),
                Map.entry(SessionState.CLOSED, "closed"));
    }
}
