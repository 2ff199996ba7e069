package io.pgtrickle.core.ivm;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A short, stable hash of a text for names the engine generates (index and state-table suffixes):
 * the same text always gives the same name, and it stays under PostgreSQL's 63-byte limit.
 */
final class NameHash {
    private NameHash() {
    }

    /** The first {@code length} hex digits of the MD5 of {@code text}. */
    static String of(String text, int length) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                    .digest(text.getBytes(StandardCharsets.UTF_8))).substring(0, length);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
