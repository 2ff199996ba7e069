package io.pgtrickle.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A part of a Markdown file that is generated from code (a reference table of config keys), between
 * {@code <!-- begin generated: NAME -->} and {@code <!-- end generated: NAME -->}, so that the
 * README and the docs never drift from the code that declares the keys.
 *
 * @param name names the section in its markers
 * @param regenerateCommand the command that rewrites it, named when the section is out of date
 */
public record GeneratedSection(String name, String regenerateCommand) {
    /** The system property that makes {@link #assertCurrent} rewrite the file instead of failing. */
    public static final String REGENERATE = "regenerate";

    public String begin() {
        return "<!-- begin generated: " + name + " -->";
    }

    public String end() {
        return "<!-- end generated: " + name + " -->";
    }

    /** {@code document} with the section's text replaced by {@code content}. */
    public String fill(String document, String content) {
        int start = document.indexOf(begin());
        int stop = document.indexOf(end());
        if (start < 0 || stop < start) {
            throw new IllegalArgumentException("the document has no " + begin() + " ... " + end() + " lines");
        }
        String body = content.endsWith("\n") ? content : content + "\n";
        return document.substring(0, start) + begin() + "\n" + body + document.substring(stop);
    }

    /**
     * Fails unless {@code file}'s section holds {@code content}; with {@code -Dregenerate=true}
     * writes it there instead.
     */
    public void assertCurrent(Path file, String content) throws IOException {
        String inRepository = Files.readString(file, StandardCharsets.UTF_8);
        String expected = fill(inRepository, content);
        if (Boolean.getBoolean(REGENERATE)) {
            Files.writeString(file, expected, StandardCharsets.UTF_8);
            inRepository = expected;
        }
        assertThat(inRepository).as(file + ": section \"" + name + "\" is out of date; regenerate it with: "
                + regenerateCommand).isEqualTo(expected);
    }
}
