<?php
// Not a floor but a step between the floors and the API of `make bench`: floor 1 plus the
// FreePBX bootstrap the module's entry points run (includes/bootstrap.php: freepbx.conf, the
// framework, Apicall::coreConfig()), and no call into the extension. index.php minus this is
// what the Rust core costs. tests/bench/bench.sh fills in @REPO@.
declare(strict_types=1);
require '@REPO@/includes/bootstrap.php';
header('Content-Type: application/json');
echo isset($apicallConfig) ? '{"status":"ok"}' : '{"status":"no config"}';
