package dev.pgferry.backend;

/**
 * Stands for one exact set of session parameters (the session layer interns them): a connection brought to a
 * client's parameters remembers the signature, so that the next client with the same one needs no restore.
 */
public interface ParameterSignature {}
