// Intentionally empty: SwiftPM needs one source file to make CBLAS a C target.
