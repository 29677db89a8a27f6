package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// loadSecrets reads --secrets-file: a flat JSON object of name -> string value.
func (c *common) loadSecrets() error {
	if c.secretsFile == "" || c.secrets != nil {
		return nil
	}
	data, err := os.ReadFile(c.secretsFile)
	if err != nil {
		return fmt.Errorf("read secrets file: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%s: secrets file must be a JSON object of string values: %w", c.secretsFile, err)
	}
	c.secrets = m
	return nil
}
