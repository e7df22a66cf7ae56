#include "features/expr.h"
#include <gtest/gtest.h>
