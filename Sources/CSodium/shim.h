#ifndef RETRACT_CSODIUM_SHIM_H
#define RETRACT_CSODIUM_SHIM_H
#include <sodium.h>
#endif
