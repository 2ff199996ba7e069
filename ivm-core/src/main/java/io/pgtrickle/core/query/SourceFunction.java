package io.pgtrickle.core.query;

/**
 * A user-defined function a defining query calls (directly, through an operator, or in a view).
 *
 * @param oid the function
 * @param signature its {@code regprocedure} text, e.g. {@code public.f(integer)}
 */
public record SourceFunction(long oid, String signature) {
}
