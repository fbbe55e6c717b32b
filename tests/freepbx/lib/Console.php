<?php

/**
 * The part of Symfony Console (5.4 API, as FreePBX 17's fwconsole uses it) that module
 * commands and the stand-in fwconsole need, for machines without Debian's
 * php-symfony-console. tests/freepbx/fwconsole uses the real Symfony Console when it is
 * installed (/usr/share/php/Symfony/Component/Console) and these classes otherwise.
 * Written from Symfony's documented behaviour; no Symfony code.
 *
 * Kept: Command (configure() from the constructor, setName/setDescription/setHelp/
 * setDefinition/addArgument/addOption, run() binds and validates the input, execute()
 * must return an int), InputArgument/InputOption modes, ArgvInput parsing (--opt,
 * --opt=value, --opt value, -o, -ovalue, --, positional arguments, errors for unknown
 * options and missing arguments), ArrayInput, ConsoleOutput (stdout, stderr through
 * getErrorOutput()), BufferedOutput, the style tags <info> <comment> <error> <question>
 * and <fg=...> stripped (undecorated output), Application with list/help and
 * FactoryCommandLoader, exit status 1 and the message on stderr for failures.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace Symfony\Component\Console\Input {

    class InputArgument
    {
        public const REQUIRED = 1;
        public const OPTIONAL = 2;
        public const IS_ARRAY = 4;

        private $name;
        private $mode;
        private $description;
        private $default;

        public function __construct(string $name, ?int $mode = null, string $description = '', $default = null)
        {
            if ($mode === null) {
                $mode = self::OPTIONAL;
            } elseif ($mode > 7 || $mode < 1) {
                throw new \InvalidArgumentException(sprintf('Argument mode "%s" is not valid.', $mode));
            }
            $this->name = $name;
            $this->mode = $mode;
            $this->description = $description;
            if ($this->isRequired() && $default !== null) {
                throw new \LogicException('Cannot set a default value except for InputArgument::OPTIONAL mode.');
            }
            $this->default = $this->isArray() && $default === null ? [] : $default;
        }

        public function getName(): string
        {
            return $this->name;
        }

        public function isRequired(): bool
        {
            return ($this->mode & self::REQUIRED) === self::REQUIRED;
        }

        public function isArray(): bool
        {
            return ($this->mode & self::IS_ARRAY) === self::IS_ARRAY;
        }

        public function getDefault()
        {
            return $this->default;
        }

        public function getDescription(): string
        {
            return $this->description;
        }
    }

    class InputOption
    {
        public const VALUE_NONE = 1;
        public const VALUE_REQUIRED = 2;
        public const VALUE_OPTIONAL = 4;
        public const VALUE_IS_ARRAY = 8;
        public const VALUE_NEGATABLE = 16;

        private $name;
        private $shortcut;
        private $mode;
        private $description;
        private $default;

        public function __construct(string $name, $shortcut = null, ?int $mode = null, string $description = '', $default = null)
        {
            if (strpos($name, '--') === 0) {
                $name = substr($name, 2);
            }
            if ($name === '') {
                throw new \InvalidArgumentException('An option name cannot be empty.');
            }
            if (is_array($shortcut)) {
                $shortcut = implode('|', $shortcut);
            }
            $this->shortcut = $shortcut === null || $shortcut === '' ? null : ltrim((string) $shortcut, '-');
            $this->name = $name;
            $this->mode = $mode ?? self::VALUE_NONE;
            $this->description = $description;
            if (($this->mode & self::VALUE_NONE) && $default !== null) {
                throw new \LogicException('Cannot set a default value when using InputOption::VALUE_NONE mode.');
            }
            $this->default = $this->isArray() && $default === null ? [] : ($this->mode & self::VALUE_NONE ? false : $default);
        }

        public function getName(): string
        {
            return $this->name;
        }

        public function getShortcut(): ?string
        {
            return $this->shortcut;
        }

        public function acceptValue(): bool
        {
            return $this->isValueRequired() || $this->isValueOptional();
        }

        public function isValueRequired(): bool
        {
            return ($this->mode & self::VALUE_REQUIRED) === self::VALUE_REQUIRED;
        }

        public function isValueOptional(): bool
        {
            return ($this->mode & self::VALUE_OPTIONAL) === self::VALUE_OPTIONAL;
        }

        public function isArray(): bool
        {
            return ($this->mode & self::VALUE_IS_ARRAY) === self::VALUE_IS_ARRAY;
        }

        public function isNegatable(): bool
        {
            return ($this->mode & self::VALUE_NEGATABLE) === self::VALUE_NEGATABLE;
        }

        public function getDefault()
        {
            return $this->default;
        }

        public function getDescription(): string
        {
            return $this->description;
        }
    }

    class InputDefinition
    {
        /** @var InputArgument[] */
        private $arguments = [];
        /** @var InputOption[] */
        private $options = [];
        private $shortcuts = [];

        public function __construct(array $definition = [])
        {
            $this->setDefinition($definition);
        }

        public function setDefinition(array $definition): void
        {
            $this->arguments = [];
            $this->options = [];
            $this->shortcuts = [];
            foreach ($definition as $item) {
                if ($item instanceof InputOption) {
                    $this->addOption($item);
                } else {
                    $this->addArgument($item);
                }
            }
        }

        public function addArgument(InputArgument $argument): void
        {
            if (isset($this->arguments[$argument->getName()])) {
                throw new \LogicException(sprintf('An argument with name "%s" already exists.', $argument->getName()));
            }
            $this->arguments[$argument->getName()] = $argument;
        }

        public function addOption(InputOption $option): void
        {
            if (isset($this->options[$option->getName()])) {
                throw new \LogicException(sprintf('An option named "%s" already exists.', $option->getName()));
            }
            $this->options[$option->getName()] = $option;
            if ($option->getShortcut() !== null) {
                foreach (explode('|', $option->getShortcut()) as $s) {
                    $this->shortcuts[$s] = $option->getName();
                }
            }
        }

        /** @return InputArgument[] */
        public function getArguments(): array
        {
            return $this->arguments;
        }

        public function hasArgument(string $name): bool
        {
            return isset($this->arguments[$name]);
        }

        /** @return InputOption[] */
        public function getOptions(): array
        {
            return $this->options;
        }

        public function hasOption(string $name): bool
        {
            return isset($this->options[$name]);
        }

        public function getOption(string $name): InputOption
        {
            if (!isset($this->options[$name])) {
                throw new \InvalidArgumentException(sprintf('The "--%s" option does not exist.', $name));
            }
            return $this->options[$name];
        }

        public function hasShortcut(string $name): bool
        {
            return isset($this->shortcuts[$name]);
        }

        public function shortcutToName(string $shortcut): string
        {
            if (!isset($this->shortcuts[$shortcut])) {
                throw new \InvalidArgumentException(sprintf('The "-%s" option does not exist.', $shortcut));
            }
            return $this->shortcuts[$shortcut];
        }
    }

    interface InputInterface
    {
        public function getFirstArgument();

        public function bind(InputDefinition $definition);

        public function validate();

        public function getArguments();

        public function getArgument(string $name);

        public function hasArgument(string $name);

        public function getOptions();

        public function getOption(string $name);

        public function hasOption(string $name);

        public function isInteractive();
    }

    abstract class Input implements InputInterface
    {
        /** @var InputDefinition */
        protected $definition;
        protected $arguments = [];
        protected $options = [];
        protected $interactive = false;

        public function __construct(?InputDefinition $definition = null)
        {
            $this->definition = $definition ?? new InputDefinition();
        }

        public function bind(InputDefinition $definition)
        {
            $this->arguments = [];
            $this->options = [];
            $this->definition = $definition;
            $this->parse();
        }

        abstract protected function parse();

        public function validate()
        {
            $missing = [];
            foreach ($this->definition->getArguments() as $name => $arg) {
                if ($arg->isRequired() && !array_key_exists($name, $this->arguments)) {
                    $missing[] = $name;
                }
            }
            if ($missing !== []) {
                throw new \RuntimeException(sprintf('Not enough arguments (missing: "%s").', implode(', ', $missing)));
            }
        }

        public function getArguments()
        {
            $out = [];
            foreach ($this->definition->getArguments() as $name => $arg) {
                $out[$name] = $this->arguments[$name] ?? $arg->getDefault();
            }
            return $out;
        }

        public function getArgument(string $name)
        {
            if (!$this->definition->hasArgument($name)) {
                throw new \InvalidArgumentException(sprintf('The "%s" argument does not exist.', $name));
            }
            return $this->arguments[$name] ?? $this->definition->getArguments()[$name]->getDefault();
        }

        public function hasArgument(string $name)
        {
            return $this->definition->hasArgument($name);
        }

        public function getOptions()
        {
            $out = [];
            foreach ($this->definition->getOptions() as $name => $opt) {
                $out[$name] = $this->options[$name] ?? $opt->getDefault();
            }
            return $out;
        }

        public function getOption(string $name)
        {
            return array_key_exists($name, $this->options) ? $this->options[$name] : $this->definition->getOption($name)->getDefault();
        }

        public function hasOption(string $name)
        {
            return $this->definition->hasOption($name);
        }

        public function isInteractive()
        {
            return $this->interactive;
        }

        protected function setOption(string $name, $value): void
        {
            $opt = $this->definition->getOption($name);
            if ($value === null) {
                if ($opt->isValueRequired()) {
                    throw new \RuntimeException(sprintf('The "--%s" option requires a value.', $name));
                }
                $value = $opt->acceptValue() ? $opt->getDefault() : true;
            } elseif (!$opt->acceptValue()) {
                throw new \RuntimeException(sprintf('The "--%s" option does not accept a value.', $name));
            }
            if ($opt->isArray()) {
                $this->options[$name][] = $value;
            } else {
                $this->options[$name] = $value;
            }
        }

        protected function addArgumentValue($value): void
        {
            $args = array_values($this->definition->getArguments());
            $i = count($this->arguments);
            $last = end($args);
            if (isset($args[$i])) {
                $arg = $args[$i];
                $this->arguments[$arg->getName()] = $arg->isArray() ? [$value] : $value;
            } elseif ($last !== false && $last->isArray()) {
                $this->arguments[$last->getName()][] = $value;
            } else {
                throw new \RuntimeException(sprintf('Too many arguments, expected arguments "%s".', implode('" "', array_keys($this->definition->getArguments()))));
            }
        }
    }

    class ArgvInput extends Input
    {
        private $tokens;

        public function __construct(?array $argv = null, ?InputDefinition $definition = null)
        {
            $argv = $argv ?? $_SERVER['argv'] ?? [];
            array_shift($argv); // the program name
            $this->tokens = $argv;
            parent::__construct($definition);
        }

        protected function parse()
        {
            $tokens = $this->tokens;
            $onlyArguments = false;
            while (($token = array_shift($tokens)) !== null) {
                if ($onlyArguments || $token === '' || $token === '-' || $token[0] !== '-') {
                    $this->addArgumentValue($token);
                } elseif ($token === '--') {
                    $onlyArguments = true;
                } elseif (strpos($token, '--') === 0) {
                    $this->parseLong(substr($token, 2), $tokens);
                } else {
                    $this->parseShort(substr($token, 1), $tokens);
                }
            }
        }

        private function parseLong(string $name, array &$tokens): void
        {
            $value = null;
            if (($pos = strpos($name, '=')) !== false) {
                $value = substr($name, $pos + 1);
                $name = substr($name, 0, $pos);
            }
            if (!$this->definition->hasOption($name)) {
                throw new \RuntimeException(sprintf('The "--%s" option does not exist.', $name));
            }
            $opt = $this->definition->getOption($name);
            if ($value === null && $opt->acceptValue() && isset($tokens[0]) && ($tokens[0] === '' || $tokens[0][0] !== '-')) {
                $value = array_shift($tokens);
            }
            $this->setOption($name, $value);
        }

        private function parseShort(string $chars, array &$tokens): void
        {
            $first = $chars[0];
            if (!$this->definition->hasShortcut($first)) {
                throw new \RuntimeException(sprintf('The "-%s" option does not exist.', $first));
            }
            $name = $this->definition->shortcutToName($first);
            $opt = $this->definition->getOption($name);
            if (strlen($chars) > 1) {
                if ($opt->acceptValue()) {
                    $this->setOption($name, substr($chars, 1));
                    return;
                }
                $this->setOption($name, null);
                $this->parseShort(substr($chars, 1), $tokens);
                return;
            }
            $value = null;
            if ($opt->acceptValue() && isset($tokens[0]) && ($tokens[0] === '' || $tokens[0][0] !== '-')) {
                $value = array_shift($tokens);
            }
            $this->setOption($name, $value);
        }

        public function getFirstArgument()
        {
            foreach ($this->tokens as $token) {
                if ($token !== '' && $token[0] !== '-') {
                    return $token;
                }
            }
            return null;
        }

        /** Whether the raw tokens hold one of $values (before binding), like --help. */
        public function hasParameterOption($values): bool
        {
            foreach ((array) $values as $v) {
                if (in_array($v, $this->tokens, true)) {
                    return true;
                }
            }
            return false;
        }
    }

    class ArrayInput extends Input
    {
        private $parameters;

        public function __construct(array $parameters, ?InputDefinition $definition = null)
        {
            $this->parameters = $parameters;
            parent::__construct($definition);
        }

        protected function parse()
        {
            foreach ($this->parameters as $key => $value) {
                if ($key === '--') {
                    return;
                }
                if (strpos((string) $key, '--') === 0) {
                    $this->setOption(substr($key, 2), $value === true ? null : $value);
                } elseif (strpos((string) $key, '-') === 0) {
                    $this->setOption($this->definition->shortcutToName(substr($key, 1)), $value === true ? null : $value);
                } elseif ($this->definition->hasArgument((string) $key)) {
                    $this->arguments[$key] = $value;
                } elseif ($key !== 'command') {
                    throw new \InvalidArgumentException(sprintf('The "%s" argument does not exist.', $key));
                }
            }
        }

        public function getFirstArgument()
        {
            return isset($this->parameters['command']) ? (string) $this->parameters['command'] : null;
        }

        public function hasParameterOption($values): bool
        {
            foreach ((array) $values as $v) {
                if (array_key_exists($v, $this->parameters)) {
                    return true;
                }
            }
            return false;
        }
    }
}

namespace Symfony\Component\Console\Output {

    interface OutputInterface
    {
        public const VERBOSITY_QUIET = 16;
        public const VERBOSITY_NORMAL = 32;
        public const VERBOSITY_VERBOSE = 64;
        public const VERBOSITY_VERY_VERBOSE = 128;
        public const VERBOSITY_DEBUG = 256;
        public const OUTPUT_NORMAL = 1;
        public const OUTPUT_RAW = 2;
        public const OUTPUT_PLAIN = 4;

        public function write($messages, bool $newline = false, int $options = 0);

        public function writeln($messages, int $options = 0);

        public function setVerbosity(int $level);

        public function getVerbosity();

        public function isQuiet();

        public function isVerbose();

        public function isVeryVerbose();

        public function isDebug();

        public function setDecorated(bool $decorated);

        public function isDecorated();
    }

    interface ConsoleOutputInterface extends OutputInterface
    {
        public function getErrorOutput();

        public function setErrorOutput(OutputInterface $error);
    }

    abstract class Output implements OutputInterface
    {
        private $verbosity;

        public function __construct(?int $verbosity = self::VERBOSITY_NORMAL)
        {
            $this->verbosity = $verbosity ?? self::VERBOSITY_NORMAL;
        }

        public function setVerbosity(int $level)
        {
            $this->verbosity = $level;
        }

        public function getVerbosity()
        {
            return $this->verbosity;
        }

        public function isQuiet()
        {
            return $this->verbosity === self::VERBOSITY_QUIET;
        }

        public function isVerbose()
        {
            return $this->verbosity >= self::VERBOSITY_VERBOSE;
        }

        public function isVeryVerbose()
        {
            return $this->verbosity >= self::VERBOSITY_VERY_VERBOSE;
        }

        public function isDebug()
        {
            return $this->verbosity >= self::VERBOSITY_DEBUG;
        }

        public function setDecorated(bool $decorated)
        {
        }

        public function isDecorated()
        {
            return false;
        }

        public function writeln($messages, int $options = 0)
        {
            $this->write($messages, true, $options);
        }

        public function write($messages, bool $newline = false, int $options = 0)
        {
            $verbosities = self::VERBOSITY_QUIET | self::VERBOSITY_NORMAL | self::VERBOSITY_VERBOSE | self::VERBOSITY_VERY_VERBOSE | self::VERBOSITY_DEBUG;
            $verbosity = $verbosities & $options ?: self::VERBOSITY_NORMAL;
            if ($verbosity > $this->verbosity) {
                return;
            }
            foreach ((array) $messages as $message) {
                $message = (string) $message;
                if (($options & self::OUTPUT_RAW) === 0) {
                    $message = self::strip($message);
                }
                $this->doWrite($message, $newline);
            }
        }

        /** Removes the style tags Symfony's formatter knows; other tags stay as written. */
        public static function strip(string $message): string
        {
            $message = preg_replace('#</?(info|comment|error|question)>|<(fg|bg|options|href)=[^<>]*>|</>#', '', $message);
            return str_replace('\\<', '<', $message);
        }

        abstract protected function doWrite(string $message, bool $newline);
    }

    class StreamOutput extends Output
    {
        private $stream;

        public function __construct($stream, int $verbosity = self::VERBOSITY_NORMAL, ?bool $decorated = null, $formatter = null)
        {
            if (!is_resource($stream) || get_resource_type($stream) !== 'stream') {
                throw new \InvalidArgumentException('The StreamOutput class needs a stream as its first argument.');
            }
            $this->stream = $stream;
            parent::__construct($verbosity);
        }

        public function getStream()
        {
            return $this->stream;
        }

        protected function doWrite(string $message, bool $newline)
        {
            fwrite($this->stream, $message . ($newline ? PHP_EOL : ''));
            fflush($this->stream);
        }
    }

    class ConsoleOutput extends StreamOutput implements ConsoleOutputInterface
    {
        private $stderr;

        public function __construct(int $verbosity = self::VERBOSITY_NORMAL, ?bool $decorated = null, $formatter = null)
        {
            parent::__construct(fopen('php://stdout', 'w'), $verbosity, $decorated, $formatter);
            $this->stderr = new StreamOutput(fopen('php://stderr', 'w'), $verbosity, $decorated, $formatter);
        }

        public function getErrorOutput()
        {
            return $this->stderr;
        }

        public function setErrorOutput(OutputInterface $error)
        {
            $this->stderr = $error;
        }

        public function setVerbosity(int $level)
        {
            parent::setVerbosity($level);
            $this->stderr->setVerbosity($level);
        }
    }

    class BufferedOutput extends Output
    {
        private $buffer = '';

        public function fetch(): string
        {
            $content = $this->buffer;
            $this->buffer = '';
            return $content;
        }

        protected function doWrite(string $message, bool $newline)
        {
            $this->buffer .= $message . ($newline ? PHP_EOL : '');
        }
    }
}

namespace Symfony\Component\Console\Command {

    use Symfony\Component\Console\Input\InputArgument;
    use Symfony\Component\Console\Input\InputDefinition;
    use Symfony\Component\Console\Input\InputInterface;
    use Symfony\Component\Console\Input\InputOption;
    use Symfony\Component\Console\Output\OutputInterface;

    class Command
    {
        public const SUCCESS = 0;
        public const FAILURE = 1;
        public const INVALID = 2;

        private $name;
        private $description = '';
        private $help = '';
        private $aliases = [];
        private $hidden = false;
        /** @var InputDefinition */
        private $definition;

        public function __construct(?string $name = null)
        {
            $this->definition = new InputDefinition();
            if ($name !== null) {
                $this->setName($name);
            }
            $this->configure();
        }

        protected function configure()
        {
        }

        protected function execute(InputInterface $input, OutputInterface $output)
        {
            throw new \LogicException('You must override the execute() method in the concrete command class.');
        }

        public function run(InputInterface $input, OutputInterface $output): int
        {
            $input->bind($this->definition);
            $input->validate();
            $code = $this->execute($input, $output);
            if (!is_int($code)) {
                throw new \TypeError(sprintf('Return value of "%s::execute()" must be of the type int, "%s" returned.', static::class, get_debug_type($code)));
            }
            return $code;
        }

        public function setName(string $name)
        {
            if (!preg_match('/^[^\:]++(\:[^\:]++)*$/', $name)) {
                throw new \InvalidArgumentException(sprintf('Command name "%s" is invalid.', $name));
            }
            $this->name = $name;
            return $this;
        }

        public function getName()
        {
            return $this->name;
        }

        public function setDescription(string $description)
        {
            $this->description = $description;
            return $this;
        }

        public function getDescription()
        {
            return $this->description;
        }

        public function setHelp(string $help)
        {
            $this->help = $help;
            return $this;
        }

        public function getHelp()
        {
            return $this->help;
        }

        public function setAliases(iterable $aliases)
        {
            $this->aliases = is_array($aliases) ? $aliases : iterator_to_array($aliases);
            return $this;
        }

        public function getAliases()
        {
            return $this->aliases;
        }

        public function setHidden(bool $hidden = true)
        {
            $this->hidden = $hidden;
            return $this;
        }

        public function isHidden()
        {
            return $this->hidden;
        }

        public function setDefinition($definition)
        {
            if ($definition instanceof InputDefinition) {
                $this->definition = $definition;
            } else {
                $this->definition->setDefinition($definition);
            }
            return $this;
        }

        public function getDefinition()
        {
            return $this->definition;
        }

        public function addArgument(string $name, ?int $mode = null, string $description = '', $default = null)
        {
            $this->definition->addArgument(new InputArgument($name, $mode, $description, $default));
            return $this;
        }

        public function addOption(string $name, $shortcut = null, ?int $mode = null, string $description = '', $default = null)
        {
            $this->definition->addOption(new InputOption($name, $shortcut, $mode, $description, $default));
            return $this;
        }

        /** "apicall:call [options] [--] <number>" */
        public function getSynopsis(): string
        {
            $parts = [$this->name];
            if ($this->definition->getOptions() !== []) {
                $parts[] = '[options]';
            }
            foreach ($this->definition->getArguments() as $arg) {
                $parts[] = $arg->isRequired() ? '<' . $arg->getName() . '>' : '[<' . $arg->getName() . '>]';
            }
            return implode(' ', $parts);
        }
    }
}

namespace Symfony\Component\Console\CommandLoader {

    use Symfony\Component\Console\Command\Command;

    class FactoryCommandLoader
    {
        private $factories;

        public function __construct(array $factories)
        {
            $this->factories = $factories;
        }

        public function has(string $name)
        {
            return isset($this->factories[$name]);
        }

        public function get(string $name)
        {
            if (!isset($this->factories[$name])) {
                throw new \InvalidArgumentException(sprintf('Command "%s" does not exist.', $name));
            }
            $factory = $this->factories[$name];
            return $factory();
        }

        public function getNames()
        {
            return array_keys($this->factories);
        }
    }
}

namespace Symfony\Component\Console {

    use Symfony\Component\Console\Command\Command;
    use Symfony\Component\Console\CommandLoader\FactoryCommandLoader;
    use Symfony\Component\Console\Input\ArgvInput;
    use Symfony\Component\Console\Input\InputInterface;
    use Symfony\Component\Console\Output\ConsoleOutput;
    use Symfony\Component\Console\Output\ConsoleOutputInterface;
    use Symfony\Component\Console\Output\OutputInterface;

    class Application
    {
        private $name;
        private $version;
        /** @var Command[] */
        private $commands = [];
        /** @var FactoryCommandLoader|null */
        private $loader;
        private $autoExit = true;

        public function __construct(string $name = 'UNKNOWN', string $version = 'UNKNOWN')
        {
            $this->name = $name;
            $this->version = $version;
        }

        public function add(Command $command)
        {
            $this->commands[$command->getName()] = $command;
            foreach ($command->getAliases() as $alias) {
                $this->commands[$alias] = $command;
            }
            return $command;
        }

        public function setCommandLoader($loader)
        {
            $this->loader = $loader;
        }

        public function setAutoExit(bool $boolean)
        {
            $this->autoExit = $boolean;
        }

        public function has(string $name)
        {
            return isset($this->commands[$name]) || ($this->loader !== null && $this->loader->has($name));
        }

        public function find(string $name)
        {
            if (!isset($this->commands[$name]) && $this->loader !== null && $this->loader->has($name)) {
                $this->add($this->loader->get($name));
            }
            if (!isset($this->commands[$name])) {
                throw new \InvalidArgumentException(sprintf('Command "%s" is not defined.', $name));
            }
            return $this->commands[$name];
        }

        /** @return string[] every command name, sorted */
        public function names(): array
        {
            $names = array_keys($this->commands);
            if ($this->loader !== null) {
                $names = array_merge($names, $this->loader->getNames());
            }
            $names = array_unique($names);
            sort($names);
            return $names;
        }

        public function run(?InputInterface $input = null, ?OutputInterface $output = null)
        {
            $input = $input ?? new ArgvInput();
            $output = $output ?? new ConsoleOutput();
            try {
                $code = $this->doRun($input, $output);
            } catch (\Throwable $e) {
                $err = $output instanceof ConsoleOutputInterface ? $output->getErrorOutput() : $output;
                $err->writeln('');
                $err->writeln('  <error>' . ($e instanceof \RuntimeException || $e instanceof \InvalidArgumentException ? '' : '[' . get_class($e) . '] ') . $e->getMessage() . '</error>');
                $err->writeln('');
                $code = is_int($e->getCode()) && $e->getCode() > 0 ? min(255, $e->getCode()) : 1;
            }
            if ($this->autoExit) {
                exit($code);
            }
            return $code;
        }

        private function doRun(InputInterface $input, OutputInterface $output): int
        {
            $name = $input->getFirstArgument();
            $wantsHelp = method_exists($input, 'hasParameterOption') && $input->hasParameterOption(['--help', '-h']);
            if ($name === null || $name === 'list') {
                $output->writeln($this->name . ' ' . $this->version);
                $output->writeln('');
                $output->writeln('Available commands:');
                foreach ($this->names() as $n) {
                    $output->writeln(sprintf('  %-24s %s', $n, $this->find($n)->getDescription()));
                }
                return 0;
            }
            if ($name === 'help') {
                $tokens = $_SERVER['argv'] ?? [];
                $name = $tokens[2] ?? 'list';
                $wantsHelp = true;
            }
            $command = $this->find($name);
            if ($wantsHelp) {
                $output->writeln('Usage:');
                $output->writeln('  ' . $command->getSynopsis());
                $output->writeln('');
                $output->writeln($command->getDescription());
                foreach ($command->getDefinition()->getOptions() as $opt) {
                    $output->writeln(sprintf('  --%-20s %s', $opt->getName(), $opt->getDescription()));
                }
                if ($command->getHelp() !== '') {
                    $output->writeln('');
                    $output->writeln($command->getHelp());
                }
                return 0;
            }
            // The first argument is the command name: bind it to a definition holding it.
            $definition = $command->getDefinition();
            if (!$definition->hasArgument('command')) {
                $args = $definition->getArguments();
                $opts = $definition->getOptions();
                $global = [];
                foreach ([['quiet', 'q'], ['verbose', 'v|vv|vvv'], ['version', 'V'], ['ansi', null], ['no-ansi', null], ['no-interaction', 'n']] as [$o, $short]) {
                    if (!isset($opts[$o])) {
                        $global[] = new Input\InputOption($o, $short, Input\InputOption::VALUE_NONE, 'Global option of the application');
                    }
                }
                $definition->setDefinition(array_merge(
                    [new Input\InputArgument('command', Input\InputArgument::REQUIRED, 'The command to execute')],
                    array_values($args),
                    array_values($opts),
                    $global
                ));
            }
            if ($input->hasParameterOption(['--quiet', '-q'])) {
                $output->setVerbosity(OutputInterface::VERBOSITY_QUIET);
            }
            return $command->run($input, $output);
        }
    }
}
