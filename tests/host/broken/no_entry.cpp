// A shared library that is not a QuantForge plugin: it exports something, but not the entry.
extern "C" __attribute__((visibility("default"))) int some_other_symbol(void) { return 42; }
