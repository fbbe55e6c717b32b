<?php
// Floor 1 of `make bench`: the cheapest JSON answer this Apache + mod_php can give.
// Served from .stack/bench/www (copied there by tests/bench/bench.sh), never published.
declare(strict_types=1);
header('Content-Type: application/json');
echo '{"status":"ok"}';
