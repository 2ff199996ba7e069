package io.pgtrickle.relay.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${ENV:NAME}} by the environment variable and {@code ${FILE:path}} by the file's
 * content without its trailing newline, in any string value; relative paths are resolved against
 * the config file's directory.
 */
final class SecretReferences {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([A-Za-z]+):([^}]*)}");

    private final Function<String, String> environment;
    private final Path baseDir;

    SecretReferences(Function<String, String> environment, Path baseDir) {
        this.environment = environment;
        this.baseDir = baseDir;
    }

    /** The text with its references replaced; null (and a problem) when one cannot be. */
    String resolve(String text, String path, String location, Problems problems) {
        if (text.indexOf("${") < 0) {
            return text;
        }
        Matcher m = REFERENCE.matcher(text);
        StringBuilder out = new StringBuilder();
        boolean ok = true;
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "ENV" -> env(m.group(2), path, location, problems);
                case "FILE" -> file(m.group(2), path, location, problems);
                default -> {
                    problems.add(path, location, "unknown reference ${" + m.group(1) + ":...}; write ${ENV:NAME} for an"
                            + " environment variable or ${FILE:path} for a file's content");
                    yield null;
                }
            };
            if (value == null) {
                ok = false;
                continue;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return ok ? out.toString() : null;
    }

    private String env(String name, String path, String location, Problems problems) {
        String value = environment.apply(name);
        if (value == null) {
            problems.add(path, location, "environment variable " + name + " (from ${ENV:" + name + "}) is not set;"
                    + " set it or replace the reference");
        }
        return value;
    }

    private String file(String name, String path, String location, Problems problems) {
        Path file = baseDir.resolve(name);
        try {
            String content = Files.readString(file, StandardCharsets.UTF_8);
            if (content.endsWith("\r\n")) {
                return content.substring(0, content.length() - 2);
            }
            return content.endsWith("\n") ? content.substring(0, content.length() - 1) : content;
        } catch (IOException | RuntimeException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file" : String.valueOf(e.getMessage());
            problems.add(path, location, "cannot read " + file + " (from ${FILE:" + name + "}): " + why
                    + "; create the file or fix the path (relative paths start at the config file's directory)");
            return null;
        }
    }
}
