package io.pgtrickle.cli;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** A defining query given inline ({@code --query SQL}), from stdin ({@code --query -}) or a file. */
final class QueryInput {
    @Option(names = "--query", paramLabel = "SQL", required = true,
            description = "The defining query; '-' reads it from stdin.")
    String text;

    @Option(names = "--query-file", paramLabel = "FILE", required = true,
            description = "Read the defining query from FILE.")
    Path file;

    /** The query text; stdin is read when {@code --query -}. */
    String read(InputStream stdin) {
        String query;
        if (file != null) {
            try {
                query = Files.readString(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT, "query file " + file + " does not exist");
            } catch (IOException e) {
                throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT, "cannot read query file " + file + ": "
                        + e.getMessage(), e);
            }
        } else if ("-".equals(text)) {
            try {
                query = new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT, "cannot read the query from stdin: "
                        + e.getMessage(), e);
            }
        } else {
            query = text;
        }
        if (query.isBlank()) {
            throw new PgTrickleException(ErrorCode.INVALID_QUERY, "the defining query is empty");
        }
        return query.strip();
    }
}
