#include "features/approx_distinct.h"
#include <gtest/gtest.h>
