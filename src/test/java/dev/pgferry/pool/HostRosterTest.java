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
}
