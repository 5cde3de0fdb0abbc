package dev.pgferry.auth;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * The password bytes SCRAM hashes, following PostgreSQL's {@code pg_saslprep} (common/saslprep.c):
 * if the password is valid for SASLprep (RFC 4013) the prepared form is used, otherwise the raw
 * UTF-8 bytes. That fallback is what lets any byte string a user set be used as a password.
 *
 * <p>What is implemented, in PostgreSQL's order:
 * <ol>
 *   <li>pure ASCII → unchanged (even control characters, as PostgreSQL does);</li>
 *   <li>unpaired surrogates (not encodable as UTF-8) → raw;</li>
 *   <li>map RFC 3454 C.1.2 non-ASCII spaces to U+0020 and remove B.1 "commonly mapped to
 *       nothing" characters; an empty result → raw;</li>
 *   <li>NFKC ({@link Normalizer.Form#NFKC});</li>
 *   <li>prohibited output (C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9) and unassigned
 *       code points (A.1) → raw;</li>
 *   <li>the bidi rule of RFC 3454 section 6 → raw.</li>
 * </ol>
 * The approximation: control, private-use, surrogate, unassigned and bidi classes come from the
 * JDK's Unicode tables (Unicode 13 on Java 17) rather than stringprep's frozen Unicode 3.2 tables,
 * so characters assigned after 3.2 are accepted here where PostgreSQL falls back to raw bytes. Both
 * sides agree for every code point assigned in Unicode 3.2.
 */
final class SaslPrep {

    private SaslPrep() {
    }

    /** The bytes to feed to Hi() for {@code password}. */
    static byte[] passwordBytes(String password) {
        String prepared = prepare(password);
        return (prepared != null ? prepared : password).getBytes(StandardCharsets.UTF_8);
    }

    /** The SASLprep'd form, or {@code null} when the password is not valid for SASLprep. */
    static String prepare(String password) {
        if (isAscii(password)) {
            return password;
        }
        StringBuilder mapped = new StringBuilder(password.length());
        for (int i = 0; i < password.length(); ) {
            int cp = password.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.getType(cp) == Character.SURROGATE) {
                return null; // lone surrogate: not valid UTF-8 input
            }
            if (isNonAsciiSpace(cp)) {
                mapped.append(' ');
            } else if (!isMappedToNothing(cp)) {
                mapped.appendCodePoint(cp);
            }
        }
        if (mapped.length() == 0) {
            return null; // PostgreSQL: "don't allow empty password"
        }
        String normalized = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
        boolean randAl = false;
        boolean l = false;
        for (int i = 0; i < normalized.length(); ) {
            int cp = normalized.codePointAt(i);
            i += Character.charCount(cp);
            if (isProhibited(cp)) {
                return null;
            }
            byte dir = Character.getDirectionality(cp);
            randAl |= dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT
                    || dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
            l |= dir == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
        }
        if (randAl && (l || !isRandAl(normalized.codePointAt(0))
                || !isRandAl(normalized.codePointBefore(normalized.length())))) {
            return null;
        }
        return normalized;
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static boolean isRandAl(int cp) {
        byte dir = Character.getDirectionality(cp);
        return dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT
                || dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
    }

    /** RFC 3454 table C.1.2. */
    private static boolean isNonAsciiSpace(int cp) {
        return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B)
                || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** RFC 3454 table B.1. */
    private static boolean isMappedToNothing(int cp) {
        return cp == 0x00AD || cp == 0x034F || cp == 0x1806 || (cp >= 0x180B && cp <= 0x180D)
                || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060
                || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF;
    }

    private static boolean isProhibited(int cp) {
        if (isNonAsciiSpace(cp)) {
            return true; // C.1.2
        }
        int type = Character.getType(cp);
        if (type == Character.CONTROL // C.2.1, most of C.2.2
                || type == Character.PRIVATE_USE // C.3
                || type == Character.SURROGATE // C.5
                || type == Character.UNASSIGNED) { // A.1 and the non-characters of C.4
            return true;
        }
        return cp == 0x06DD || cp == 0x070F || cp == 0x180E || (cp >= 0x200C && cp <= 0x200D)
                || (cp >= 0x2028 && cp <= 0x2029) || (cp >= 0x2060 && cp <= 0x2063)
                || (cp >= 0x206A && cp <= 0x206F) || cp == 0xFEFF
                || (cp >= 0xFFF9 && cp <= 0xFFFD) // C.2.2 remainder, C.6
                || (cp >= 0x1D173 && cp <= 0x1D17A) // C.2.2 musical controls
                || (cp >= 0x2FF0 && cp <= 0x2FFB) // C.7
                || cp == 0x0340 || cp == 0x0341 || cp == 0x200E || cp == 0x200F
                || (cp >= 0x202A && cp <= 0x202E) // C.8
                || cp == 0xE0001 || (cp >= 0xE0020 && cp <= 0xE007F) // C.9
                || (cp & 0xFFFE) == 0xFFFE || (cp >= 0xFDD0 && cp <= 0xFDEF); // C.4
    }
}
