package io.pgtrickle.core.ivm;

/** Thrown by the compiler when a query has a construct without a delta rule; the message names it. */
public final class NotDifferentiable extends Exception {
    public NotDifferentiable(String construct) {
        super(construct);
    }
}
