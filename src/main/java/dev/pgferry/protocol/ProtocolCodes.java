package dev.pgferry.protocol;

/** Numbers of the PostgreSQL v3 wire protocol (see src/include/libpq/pqcomm.h). */
public final class ProtocolCodes {
    /**
     * PostgreSQL's MAX_STARTUP_PACKET_LENGTH: the most bytes a startup packet may have behind its 4-byte length word
     * (ProcessStartupPacket subtracts the word before comparing), so a declared length of at most 10 004.
     */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10_000;
    /** A startup packet carries at least its length and a 4-byte code. */
    public static final int MIN_STARTUP_PACKET_LENGTH = 8;

    public static final int PROTOCOL_3_0 = 3 << 16;
    public static final int PROTOCOL_3_2 = (3 << 16) | 2;
    /** The newest minor version of protocol 3 pgferry speaks. */
    public static final int LATEST_MINOR = 2;

    public static final int CANCEL_REQUEST_CODE = (1234 << 16) | 5678;
    public static final int SSL_REQUEST_CODE = (1234 << 16) | 5679;
    public static final int GSSENC_REQUEST_CODE = (1234 << 16) | 5680;

    // Backend (server → client) message types.
    public static final byte AUTHENTICATION = 'R';
    public static final byte PARAMETER_STATUS = 'S';
    public static final byte BACKEND_KEY_DATA = 'K';
    public static final byte READY_FOR_QUERY = 'Z';
    public static final byte ERROR_RESPONSE = 'E';
    public static final byte NOTICE_RESPONSE = 'N';
    public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';
    public static final byte PARSE_COMPLETE = '1';
    public static final byte BIND_COMPLETE = '2';
    public static final byte CLOSE_COMPLETE = '3';
    public static final byte COMMAND_COMPLETE = 'C';
    public static final byte ROW_DESCRIPTION = 'T';
    public static final byte DATA_ROW = 'D';
    public static final byte NOTIFICATION_RESPONSE = 'A';
    public static final byte COPY_IN_RESPONSE = 'G';
    public static final byte COPY_OUT_RESPONSE = 'H';
    public static final byte COPY_BOTH_RESPONSE = 'W';

    // Frontend (client → server) message types.
    public static final byte QUERY = 'Q';
    public static final byte PARSE = 'P';
    public static final byte BIND = 'B';
    public static final byte DESCRIBE = 'D';
    public static final byte EXECUTE = 'E';
    public static final byte CLOSE = 'C';
    public static final byte SYNC = 'S';
    public static final byte FLUSH = 'H';
    public static final byte FUNCTION_CALL = 'F';
    public static final byte TERMINATE = 'X';
    public static final byte COPY_DATA = 'd';
    public static final byte COPY_DONE = 'c';
    public static final byte COPY_FAIL = 'f';
    public static final byte PASSWORD = 'p';

    // Authentication request codes.
    public static final int AUTH_OK = 0;
    public static final int AUTH_CLEARTEXT = 3;
    public static final int AUTH_MD5 = 5;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    private ProtocolCodes() {}
}
