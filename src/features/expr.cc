#include "features/expr.h"
