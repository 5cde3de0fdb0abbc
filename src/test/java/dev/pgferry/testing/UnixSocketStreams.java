package dev.pgferry.testing;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * Streams over a Unix-domain {@link SocketChannel}, for {@link RawWireClient}: {@link java.net.Socket} has no Unix
 * sockets, and a blocking channel has no read timeout, so the channel is non-blocking and a read waits in a selector
 * for at most {@link #timeout}, as {@link java.net.Socket#setSoTimeout} would.
 */
final class UnixSocketStreams implements Closeable {
    private final SocketChannel channel;
    private final Selector readable;
    private final Selector writable;
    private volatile int timeoutMillis;

    private final InputStream in = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            ByteBuffer into = ByteBuffer.wrap(b, off, len);
            while (true) {
                int n = channel.read(into);
                if (n != 0) {
                    return n;
                }
                int timeout = timeoutMillis;
                int ready = readable.select(timeout);
                readable.selectedKeys().clear();
                if (Thread.interrupted()) {
                    throw new InterruptedIOException("interrupted while reading");
                }
                if (ready == 0 && timeout > 0) {
                    throw new SocketTimeoutException("Read timed out");
                }
            }
        }
    };

    private final OutputStream out = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ByteBuffer from = ByteBuffer.wrap(b, off, len);
            while (from.hasRemaining()) {
                if (channel.write(from) == 0) {
                    writable.select(1000);
                    writable.selectedKeys().clear();
                }
            }
        }
    };

    private UnixSocketStreams(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        readable = Selector.open();
        writable = Selector.open();
        channel.register(readable, SelectionKey.OP_READ);
        channel.register(writable, SelectionKey.OP_WRITE);
    }

    /** Connects to the socket file {@code socket}. */
    static UnixSocketStreams connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        try {
            return new UnixSocketStreams(channel);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    InputStream in() {
        return in;
    }

    OutputStream out() {
        return out;
    }

    /** How long a read waits before {@link SocketTimeoutException}; 0 waits without limit. */
    void timeout(int millis) {
        timeoutMillis = millis;
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            readable.close();
            writable.close();
        }
    }
}
