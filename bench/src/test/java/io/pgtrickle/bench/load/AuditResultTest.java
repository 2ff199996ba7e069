package io.pgtrickle.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditResultTest {
    @Test
    void aCleanRunSaysSoAndListsEveryKindWithZero() {
        AuditResult r = new AuditResult(1234, 5678, List.of());

        assertThat(r.clean()).isTrue();
        assertThat(r.lines()).containsExactly(
                "audit: 1,234 writer transactions (5,678 rows): 0 missing, 0 doubled",
                "  never delivered:            0",
                "  not buffered:               0",
                "  buffered under another xid: 0",
                "  outside every window:       0",
                "  cleaned before use:         0");
    }

    @Test
    void findingsAreCountedPerKindWithAtMostFiveExamples() {
        List<LostWrite> findings = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            findings.add(new LostWrite(LostWrite.Kind.BUFFERED_UNDER_ANOTHER_XID, 100 + i, false, "xid " + (100 + i)
                    + " buffered as 99"));
        }
        findings.add(new LostWrite(LostWrite.Kind.UNEXPLAINED, 200, true, "xid 200: twice"));
        AuditResult r = new AuditResult(10, 10, findings);

        assertThat(r.clean()).isFalse();
        assertThat(r.missing()).isEqualTo(7);
        assertThat(r.doubled()).isEqualTo(1);
        assertThat(r.lines()).contains("audit: 10 writer transactions (10 rows): 7 missing, 1 doubled",
                "  buffered under another xid: 7", "      missing: xid 104 buffered as 99", "      … and 2 more",
                "  unexplained:                1", "      doubled: xid 200: twice")
                .doesNotContain("      missing: xid 105 buffered as 99");
    }

    @Test
    void idsAreReadFromTheCapturedRowImage() {
        assertThat(LoadAudit.idOf("{\"id\":20017,\"customer_id\":3,\"amount\":\"1.50\"}")).isEqualTo(20017);
        assertThat(LoadAudit.idOf("{\"id\": 5}")).isEqualTo(5);
        assertThat(LoadAudit.idOf("{\"customer_id\":3}")).isEqualTo(-1);
    }

    @Test
    void onlyWrittenIdsPresentOtherThanOnceAreUnusual() {
        assertThat(LoadAudit.unusualCopies(new long[] {1, 2, 3, 4}, new long[] {1, 3, 3, 4, 9}))
                .isEqualTo(Map.of(2L, 0, 3L, 2));
    }
}
