// Prints the current ABI layout (tools use it to regenerate sdk/abi/plugin_abi_v1.manifest).
#include <iostream>

#include "abi_layout.hpp"

int main() { std::cout << abi_layout(); }
