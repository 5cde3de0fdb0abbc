package dev.pgferry.hosts;

import static dev.pgferry.hosts.HostRole.PRIMARY;
import static dev.pgferry.hosts.HostRole.READ_ONLY_PRIMARY;
import static dev.pgferry.hosts.HostRole.STANDBY;
import static dev.pgferry.hosts.HostRole.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgferry.hosts.HostChoice.Candidate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostChoiceTest {

    @Test
    void rolesMatchAsLibpqTargetSessionAttrs() {
        assertTrue(TargetRole.READ_WRITE.accepts(PRIMARY));
        assertFalse(TargetRole.READ_WRITE.accepts(READ_ONLY_PRIMARY));
        assertFalse(TargetRole.READ_WRITE.accepts(STANDBY));
        assertTrue(TargetRole.PRIMARY.accepts(READ_ONLY_PRIMARY));
        assertFalse(TargetRole.PRIMARY.accepts(STANDBY));
        assertTrue(TargetRole.READ_ONLY.accepts(READ_ONLY_PRIMARY));
        assertTrue(TargetRole.READ_ONLY.accepts(STANDBY));
        assertFalse(TargetRole.READ_ONLY.accepts(PRIMARY));
        assertTrue(TargetRole.STANDBY.accepts(STANDBY));
        assertFalse(TargetRole.STANDBY.accepts(READ_ONLY_PRIMARY));
        for (TargetRole target : TargetRole.values()) {
            assertFalse(target.accepts(UNKNOWN), target + " never takes an unchecked host");
        }
        assertEquals("prefer-standby", TargetRole.PREFER_STANDBY.word());
        assertEquals(STANDBY, HostRole.of(true, false));
        assertEquals(READ_ONLY_PRIMARY, HostRole.of(false, true));
        assertEquals(PRIMARY, HostRole.of(false, false));
    }

    @Test
    void writesGoToThePrimaryOnly() {
        List<Candidate> hosts = List.of(new Candidate(STANDBY, 0), new Candidate(PRIMARY, 9), new Candidate(UNKNOWN, 0));
        assertEquals(1, HostChoice.choose(hosts, TargetRole.READ_WRITE, 0));
        assertEquals(1, HostChoice.choose(hosts, TargetRole.READ_WRITE, 2));
    }

    @Test
    void preferStandbyFallsBackToThePrimaryOnlyWhenNoStandbyIsUp() {
        List<Candidate> up = List.of(new Candidate(PRIMARY, 0), new Candidate(STANDBY, 50));
        assertEquals(1, HostChoice.choose(up, TargetRole.PREFER_STANDBY, 0));
        List<Candidate> down = List.of(new Candidate(PRIMARY, 3), new Candidate(UNKNOWN, 0));
        assertEquals(0, HostChoice.choose(down, TargetRole.PREFER_STANDBY, 0));
        assertEquals(HostChoice.NONE, HostChoice.choose(down, TargetRole.STANDBY, 0));
    }

    @Test
    void leastConnectionsWinsAndTiesRotateWithTheCursor() {
        List<Candidate> hosts = List.of(new Candidate(STANDBY, 2), new Candidate(STANDBY, 1),
                new Candidate(STANDBY, 1), new Candidate(PRIMARY, 0));
        assertEquals(1, HostChoice.choose(hosts, TargetRole.STANDBY, 0));
        assertEquals(2, HostChoice.choose(hosts, TargetRole.STANDBY, 2));
        assertEquals(1, HostChoice.choose(hosts, TargetRole.STANDBY, 3));
        assertEquals(1, HostChoice.choose(hosts, TargetRole.STANDBY, -3), "any int is a cursor");
    }

    @Test
    void openingByChoiceSpreadsEvenly() {
        List<Candidate> hosts = new ArrayList<>(List.of(new Candidate(STANDBY, 0), new Candidate(STANDBY, 0),
                new Candidate(PRIMARY, 0)));
        for (int n = 0; n < 100; n++) {
            int i = HostChoice.choose(hosts, TargetRole.PREFER_STANDBY, n);
            hosts.set(i, new Candidate(hosts.get(i).role(), hosts.get(i).connections() + 1));
        }
        assertEquals(50, hosts.get(0).connections());
        assertEquals(50, hosts.get(1).connections());
        assertEquals(0, hosts.get(2).connections());
    }

    @Test
    void anEmptyListChoosesNothing() {
        assertEquals(HostChoice.NONE, HostChoice.choose(List.of(), TargetRole.ANY, 0));
    }

    @Test
    void aBackendFitsOnlyTheRoleItsHostHasNow() {
        List<HostRole> promoted = List.of(UNKNOWN, PRIMARY);
        assertFalse(HostChoice.fits(promoted, TargetRole.READ_WRITE, 0), "the lost primary");
        assertTrue(HostChoice.fits(promoted, TargetRole.READ_WRITE, 1), "the promoted standby");
        List<HostRole> demoted = List.of(STANDBY, PRIMARY);
        assertFalse(HostChoice.fits(demoted, TargetRole.READ_WRITE, 0), "the old primary back as a standby");
        assertTrue(HostChoice.fits(demoted, TargetRole.ANY, 0));
    }

    @Test
    void preferStandbyKeepsAPrimaryBackendOnlyWhileNoStandbyAnswers() {
        assertTrue(HostChoice.fits(List.of(PRIMARY, UNKNOWN), TargetRole.PREFER_STANDBY, 0));
        assertFalse(HostChoice.fits(List.of(PRIMARY, STANDBY), TargetRole.PREFER_STANDBY, 0),
                "a standby is back: reads leave the primary");
        assertTrue(HostChoice.fits(List.of(PRIMARY, STANDBY), TargetRole.PREFER_STANDBY, 1));
        assertFalse(HostChoice.fits(List.of(UNKNOWN, UNKNOWN), TargetRole.PREFER_STANDBY, 0));
    }
}
