// Needs a function no library provides: built as a module (undefined symbols allowed at link time),
// it fails when loaded with every symbol resolved up front.
#include "quantforge/plugin.h"

void qf_test_function_nobody_defines(int);

extern "C" QF_PLUGIN_EXPORT const qf_plugin_descriptor* quantforge_plugin_entry(void) {
  qf_test_function_nobody_defines(1);
  return nullptr;
}
