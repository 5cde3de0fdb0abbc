package dev.pgferry.auth;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A cursor over one SCRAM message ({@code attr=value,attr=value,…}, RFC 5802 section 7), read by
 * hand the way PostgreSQL's {@code read_attribute_value}/{@code read_any_attr} do. Every failure is
 * an {@link AuthException}; nothing else escapes.
 *
 * <p>{@code errors} builds the exception, so the same reader serves the server side
 * (08P01 "malformed SCRAM message") and the client side (its own wording).
 */
final class ScramMessageReader {

    interface Errors {
        AuthException malformed(String detail);
    }

    private final String text;
    private final Errors errors;
    private int pos;

    private ScramMessageReader(String text, Errors errors) {
        this.text = text;
        this.errors = errors;
    }

    /** Decodes strict UTF-8; a NUL byte or invalid UTF-8 is malformed. */
    static ScramMessageReader of(byte[] message, Errors errors) throws AuthException {
        if (message == null || message.length == 0) {
            throw errors.malformed("The message is empty.");
        }
        for (byte b : message) {
            if (b == 0) {
                // PostgreSQL's scram_exchange: the input's string length must be its message length
                throw errors.malformed("Message length does not match input length.");
            }
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(message)).toString();
            return new ScramMessageReader(text, errors);
        } catch (CharacterCodingException e) {
            throw errors.malformed("The message is not valid UTF-8.");
        }
    }

    String text() {
        return text;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos >= text.length();
    }

    /** The next character, or {@code 0} at the end. */
    char peek() {
        return atEnd() ? 0 : text.charAt(pos);
    }

    /** Consumes {@code c} or fails. */
    void expect(char c) throws AuthException {
        if (peek() != c) {
            throw errors.malformed(atEnd()
                    ? "Expected \"" + c + "\" but the message ended."
                    : "Expected \"" + c + "\" at position " + pos + ".");
        }
        pos++;
    }

    /** Reads {@code name=value} and the ',' after it if any; the value may be empty. */
    String attribute(char name) throws AuthException {
        if (peek() != name) {
            throw errors.malformed("Expected attribute \"" + name + "\" at position " + pos + ".");
        }
        pos++;
        return valueAfterName(name);
    }

    /** Reads any {@code x=value} (x a letter) and returns x; the value is skipped. */
    char anyAttribute() throws AuthException {
        char name = peek();
        if (!((name >= 'a' && name <= 'z') || (name >= 'A' && name <= 'Z'))) {
            throw errors.malformed("Attribute expected at position " + pos + ".");
        }
        pos++;
        valueAfterName(name);
        return name;
    }

    private String valueAfterName(char name) throws AuthException {
        if (peek() != '=') {
            throw errors.malformed("Expected \"=\" after attribute \"" + name + "\".");
        }
        pos++;
        int end = text.indexOf(',', pos);
        if (end < 0) {
            end = text.length();
        }
        String value = text.substring(pos, end);
        pos = end < text.length() ? end + 1 : end;
        return value;
    }

    /** Base64 that decodes strictly (RFC 4648, padding required). */
    byte[] base64(String value, String what) throws AuthException {
        if (value.isEmpty() || value.length() % 4 != 0) {
            throw errors.malformed("Invalid base64 in " + what + ".");
        }
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw errors.malformed("Invalid base64 in " + what + ".");
        }
    }

    /** RFC 5802 "printable": %x21-2B / %x2D-7E, i.e. visible ASCII except ','. */
    static boolean isPrintable(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                return false;
            }
        }
        return true;
    }
}
