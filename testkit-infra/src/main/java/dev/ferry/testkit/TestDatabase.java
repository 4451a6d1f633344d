package dev.ferry.testkit;

/** Coordinates of one database: a JDBC URL with the user and password that reach it. */
public record TestDatabase(String url, String user, String password) {}
