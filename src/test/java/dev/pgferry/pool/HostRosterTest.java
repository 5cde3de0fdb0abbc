package dev.pgferry.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgferry.backend.BackendTarget;
import dev.pgferry.hosts.HostList.Address;
import dev.pgferry.hosts.HostChoice;
import dev.pgferry.hosts.HostRole;
import dev.pgferry.hosts.TargetRole;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostRosterTest {

    private final HostRoster roster = new HostRoster(
            List.of(new Address("p", 5432), new Address("r1", 5432), new Address("r2", 5433)), TargetRole.PREFER_STANDBY);

    @Test
    void uncheckedHostsAreNeverChosen() {
        assertEquals(HostChoice.NONE, roster.next());
    }

    @Test
    void newBackendsSpreadOverStandbysByOpenCount() {
        roster.role(0, HostRole.PRIMARY);
        roster.role(1, HostRole.STANDBY);
        roster.role(2, HostRole.STANDBY);
        int[] per = new int[3];
        for (int n = 0; n < 10; n++) {
            int host = roster.next();
            roster.opened(host);
            per[host]++;
        }
        assertEquals(0, per[0]);
        assertEquals(5, per[1]);
        assertEquals(5, per[2]);
        assertEquals(new BackendTarget("r2", 5433, "app"), roster.backendTarget(2, "app"));
    }

    @Test
    void aPromotionIsAChangeAndFallbackFollowsIt() {
        roster.role(0, HostRole.PRIMARY);
        roster.role(1, HostRole.STANDBY);
        assertTrue(roster.role(1, HostRole.PRIMARY));
        assertFalse(roster.role(1, HostRole.PRIMARY));
        roster.role(0, HostRole.UNKNOWN);
        roster.opened(1);
        roster.closed(1);
        assertEquals(1, roster.next(), "no standby left: prefer-standby takes the primary");
    }

    @Test
    void aStandbyTooFarBehindIsSkippedUntilItCatchesUp() {
        HostRoster lagAware = new HostRoster("app_ro", List.of(new Address("p", 5432), new Address("r", 5432)),
                TargetRole.PREFER_STANDBY, java.time.Duration.ofSeconds(10));
        int[] changes = {0};
        lagAware.onChange(() -> changes[0]++);
        lagAware.role(0, HostRole.PRIMARY, 0);
        lagAware.role(1, HostRole.STANDBY, 200);
        assertEquals(1, lagAware.next());
        assertTrue(lagAware.role(1, HostRole.STANDBY, 12_000), "falling behind is a change for the pools");
        assertEquals(0, lagAware.next(), "reads go to the primary meanwhile");
        assertFalse(lagAware.fits(1));
        assertFalse(lagAware.role(1, HostRole.STANDBY, 15_000));
        lagAware.role(1, HostRole.STANDBY, 0);
        assertEquals(1, lagAware.next());
        assertFalse(lagAware.fits(0), "the primary's backends leave once the standby is back");
        assertEquals(4, changes[0]);
    }

    @Test
    void aSuspectHostIsAskedAgainAtOnce() {
        java.util.List<Integer> asked = new java.util.ArrayList<>();
        roster.recheckWith(asked::add);
        roster.suspect(2);
        roster.suspect(-1);
        assertEquals(List.of(2), asked);
    }
}
