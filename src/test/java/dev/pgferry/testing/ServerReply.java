package dev.pgferry.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything a server sends on a connection until it closes it (or goes quiet), written down so that pgferry's answer
 * and PostgreSQL's answer to the same bytes compare with {@code isEqualTo}: each message by its type, an ErrorResponse
 * as {@code "E <SQLSTATE> <message>"}, then {@code "closed"} or {@code "open"}. {@code "closed"} alone is PostgreSQL's
 * answer to what it only logs as COMMERROR.
 */
public final class ServerReply {
    private static final Pattern PROTOCOL_RANGE = Pattern.compile("server supports 3\\.0 to 3\\.\\d+");

    private ServerReply() {}

    /**
     * Reads {@code in} until end of stream (or a reset: closed too) or until a read times out (the socket's timeout,
     * set by the caller: the server left the connection open), and writes down what came.
     */
    public static String read(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        String end;
        byte[] chunk = new byte[8192];
        while (true) {
            int n;
            try {
                n = in.read(chunk);
            } catch (SocketTimeoutException e) {
                end = "open";
                break;
            } catch (SocketException | javax.net.ssl.SSLException e) {
                end = "closed"; // reset, or TLS ended without close_notify: closed all the same
                break;
            }
            if (n < 0) {
                end = "closed";
                break;
            }
            got.write(chunk, 0, n);
        }
        List<String> seen = messages(got.toByteArray());
        seen.add(end);
        return String.join(", ", seen);
    }

    /** As {@link #read}, with each server's own range of protocol versions ("3.0 to 3.0", "3.0 to 3.2") left out. */
    public static String readWithoutProtocolRange(InputStream in) throws IOException {
        return withoutProtocolRange(read(in));
    }

    public static String withoutProtocolRange(String reply) {
        Matcher m = PROTOCOL_RANGE.matcher(reply);
        return m.replaceAll("server supports 3.0 to ...");
    }

    private static List<String> messages(byte[] bytes) {
        List<String> seen = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            if (b.remaining() < 5) {
                seen.add("bytes " + hex(b));
                break;
            }
            char type = (char) b.get(b.position());
            int len = b.getInt(b.position() + 1);
            if (len < 4 || len - 4 > b.remaining() - 5) {
                seen.add("bytes " + hex(b)); // not a protocol-3 message (e.g. a protocol-2 error string)
                break;
            }
            b.position(b.position() + 5);
            byte[] body = new byte[len - 4];
            b.get(body);
            seen.add(type == 'E' ? "E " + field(body, 'C') + " " + field(body, 'M') : String.valueOf(type));
        }
        return seen;
    }

    private static String field(byte[] body, char code) {
        int i = 0;
        while (i < body.length && body[i] != 0) {
            char c = (char) body[i];
            int s = ++i;
            while (i < body.length && body[i] != 0) {
                i++;
            }
            if (c == code) {
                return new String(body, s, i - s, StandardCharsets.UTF_8);
            }
            i++;
        }
        return null;
    }

    private static String hex(ByteBuffer b) {
        StringBuilder s = new StringBuilder();
        while (b.hasRemaining() && s.length() < 64) {
            s.append(String.format("%02x", b.get()));
        }
        return s.toString();
    }
}
