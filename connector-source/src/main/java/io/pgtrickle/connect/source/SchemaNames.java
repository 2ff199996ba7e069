package io.pgtrickle.connect.source;

/** Schema names that Avro and Protobuf converters accept: letters, digits and underscores between dots. */
final class SchemaNames {
    private SchemaNames() {
    }

    static String sanitize(String identifier) {
        StringBuilder b = new StringBuilder(identifier.length());
        for (int i = 0; i < identifier.length(); i++) {
            char ch = identifier.charAt(i);
            boolean ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (i > 0 && ch >= '0' && ch <= '9');
            b.append(ok ? ch : '_');
        }
        return b.length() == 0 ? "_" : b.toString();
    }
}
