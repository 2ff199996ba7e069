package io.pgtrickle.format;

import java.util.Map;

/** A change encoded for a target: record key, value and headers (all UTF-8 text). */
public record EncodedMessage(String key, String value, Map<String, String> headers) {
    public EncodedMessage {
        headers = Map.copyOf(headers);
    }
}
